"""Which fields of a policy differ between two specs, as flat JSON paths in the contract's order.

The unit of the audit trail and of the edit form's list of changes.
"""

from __future__ import annotations

import hashlib
from typing import Any

from policies.domain.contract.limits import SCHEDULE_FIELDS
from policies.domain.contract.specs import PolicySpec


def audit_fields(spec: PolicySpec | None) -> dict[str, Any]:
    """Return the policy as flat JSON paths, the unit in which the audit trail shows changes."""
    if spec is None:
        return {}
    fields: dict[str, Any] = {"backup_policy_name": spec.name}
    fields.update({f"scheduled_policy.{name}": value for name, value in spec.scheduled_policy().items()})
    fields["time_zone"] = spec.time_zone
    fields["time_zone_name"] = spec.time_zone_name
    fields["tags"] = [{"key": tag.key, "value": tag.value} for tag in spec.tags]
    return fields


# The order in which changes are shown: the contract's field order, each pair together.
# (PostgreSQL's jsonb does not keep the keys' order, so readers sort with ordered_changes.)
AUDIT_FIELD_ORDER: tuple[str, ...] = (
    "backup_policy_name",
    *(f"scheduled_policy.{name}" for name in SCHEDULE_FIELDS),
    "time_zone",
    "time_zone_name",
    "tags",
)


def ordered_changes(changes: dict) -> list[tuple[str, Any, Any]]:
    """Return ``(field, before, after)`` for each change, in :data:`AUDIT_FIELD_ORDER`."""
    rank = {name: index for index, name in enumerate(AUDIT_FIELD_ORDER)}
    return [
        (name, change.get("before"), change.get("after"))
        for name, change in sorted(changes.items(), key=lambda item: rank.get(item[0], len(rank)))
    ]


def audit_changes(before: PolicySpec | None, after: PolicySpec | None) -> dict:
    old, new = audit_fields(before), audit_fields(after)
    changes = {}
    for name in sorted({*old, *new}, key=lambda name: AUDIT_FIELD_ORDER.index(name)):
        if old.get(name) != new.get(name):
            changes[name] = {"before": old.get(name), "after": new.get(name)}
    return changes


# An edit page sends every field, so a save from a page drawn before another change (another tab,
# someone else, the API) would undo that change unseen. Each edit page records the stored policy it
# is drawn from; a save whose record differs from the policy as stored now is held, and the page is
# drawn again from the stored policy, so that saving again is a choice made knowing it.
CHANGED_MEANWHILE = (
    "The policy was changed since you opened this page (in another tab, by someone else, or by the "
    "API), so nothing was saved. Your edits are still here, and “Changes to save” shows what "
    "saving them would change in the policy as it is now: check them and save again."
)


def seen_mark(spec: PolicySpec) -> str:
    """What an edit page records of the stored policy it is drawn from (every field and tag)."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:16]


def changed_since_seen(seen: str | None, stored: PolicySpec) -> bool:
    """Whether a page that recorded ``seen`` was drawn from another version than ``stored``.

    A save that records nothing (a client that is not an edit page) is not held.
    """
    return bool(seen) and seen != seen_mark(stored)
