"""The matrix of every operation on every kind of policy from every entrance (tests/matrix/).

A kind is one line of :data:`KINDS` (the create body, its volumes, whether it is made in the other
season so that its re-base is due); an operation is one function of :data:`OPERATIONS`, which
drives one entrance through :class:`Entrances` and asserts the cell's outcome. The expected
outcome is always the core's answer for the request (``parse``), so every entrance is held to
the same answer: what the API stores, the form stores; what the API refuses, the form refuses.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from http import HTTPStatus
from typing import Any
from zoneinfo import ZoneInfo

from django.test import Client
from django.urls import reverse

from policies import accounts, audit, services, volumes
from policies.dashboard.forms.mapping import form_data_from_payload
from policies.domain.contract import parse, specs
from policies.domain.contract import volumes as domain_volumes
from policies.domain.contract.changes import audit_changes
from policies.domain.schedule import nextruns, offsets, zones
from policies.models import AuditEvent, BackupPolicy, BackupTask, Volume
from tests.helpers.admin import admin_url, page_data, set_tags
from tests.helpers.api import ContractClient, create_url, policy_url, send
from tests.helpers.dashboard import HTMX
from tests.helpers.factories import UserFactory
from tests.helpers.policies import make_policy
from tests.helpers.runs import associate, make_volumes

# Pinned times of the request, before the real clock (a session made at them stays valid): a
# winter and a summer of both hemispheres. Tuesdays, 10:00 UTC.
SEASONS = {
    "winter": datetime(2026, 1, 13, 10, tzinfo=UTC),
    "summer": datetime(2026, 7, 14, 10, tzinfo=UTC),
}
OTHER_SEASON = {"winter": "summer", "summer": "winter"}


def weekly(start_time: str, days=("MON", "THU"), **more) -> dict:
    return {
        "start_time": start_time,
        "week_frequency": list(days),
        "rentention_num": 7,
        "status": "ON",
        **more,
    }


def every(n: int, start_time: str, **more) -> dict:
    return {"start_time": start_time, "frequency": n, "rentention_day": 10, "status": "ON", **more}


def body(schedule: dict, *, time_zone=None, time_zone_name=None, tags=()) -> dict:
    payload: dict[str, Any] = {"backup_policy_name": "subject", "scheduled_policy": schedule}
    if time_zone:
        payload["time_zone"] = time_zone
    if time_zone_name:
        payload["time_zone_name"] = time_zone_name
    if tags:
        payload["tags"] = [{"key": key, "value": value} for key, value in tags]
    return payload


@dataclass(frozen=True)
class Kind:
    payload: dict  # the create body; a time_zone_name alone is read at the time of the request
    volumes: int = 0  # volumes associated once it is made
    other_season: bool = False  # made at the other season's time: its re-base is due now


KINDS: dict[str, Kind] = {
    "fixed_offset": Kind(body(weekly("03:00"), time_zone="UTC+05:00")),
    "fixed_offset_day_shift": Kind(body(weekly("22:00,00:00,02:00", days=["MON"]), time_zone="UTC+02:00")),
    "europe_berlin": Kind(body(weekly("01:00,05:00"), time_zone_name="Europe/Berlin")),
    "america_new_york": Kind(body(weekly("04:00"), time_zone_name="America/New_York")),
    "australia_sydney": Kind(body(weekly("16:00"), time_zone_name="Australia/Sydney")),
    "asia_tokyo": Kind(body(every(2, "18:00"), time_zone_name="Asia/Tokyo")),
    "every_n_days": Kind(body(every(3, "06:00"), time_zone="UTC-03:00")),
    "weekdays": Kind(body(weekly("12:00", days=["MON", "TUE", "WED", "THU", "FRI"]))),
    "off": Kind(body(weekly("02:00", status="OFF"), time_zone="UTC+01:00")),
    "with_tags": Kind(body(weekly("08:00"), time_zone="UTC+08:00", tags=[("env", "prod"), ("team", "ops")])),
    "with_volumes": Kind(body(every(1, "23:00", remain_first_backup_of_curMonth="Y")), volumes=2),
    "europe_london": Kind(body(weekly("23:00", days=["SUN", "WED"]), time_zone_name="Europe/London")),
    "america_st_johns": Kind(body(weekly("10:00"), time_zone_name="America/St_Johns")),
    "asia_kolkata": Kind(body(every(1, "04:00"), time_zone_name="Asia/Kolkata")),
    "named_utc": Kind(body(weekly("00:00,12:00"), time_zone_name="UTC")),
    "fixed_offset_half_hour": Kind(body(weekly("20:00"), time_zone="UTC+05:30")),
    "fixed_offset_far_west": Kind(body(weekly("13:00,11:00", days=["SAT"]), time_zone="UTC-12:00")),
    "rebase_due": Kind(body(weekly("01:00"), time_zone_name="Europe/Berlin"), other_season=True),
}


@dataclass
class World:
    """One cell's world: the time of the request, a project, its member, staff, and the kind's policy."""

    season: str
    now: datetime
    tenant: Any
    member: Any  # the project's member, whose token and session the API and the dashboard use
    kind: Kind
    policy: BackupPolicy
    spare_volumes: list[Volume] = field(default_factory=list)

    # A cell drives one entrance: each entrance's credentials are made when it is first driven,
    # at the cell's pinned time, so a cell pays for no sign-in it does not use.

    @cached_property
    def api(self) -> ContractClient:
        """The API, with a token of the project's member."""
        _, raw = accounts.token_issue(user=self.member)
        return ContractClient(raw)

    @cached_property
    def web(self) -> Client:
        """The dashboard, signed in as the project's member."""
        client = Client()
        client.force_login(self.member)
        return client

    @cached_property
    def admin(self) -> Client:
        """The admin site, signed in as a superuser."""
        client = Client()
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
        return client

    def spec(self) -> specs.PolicySpec:
        return BackupPolicy.objects.get(pk=self.policy.pk).to_spec()

    def events(self) -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(policy_id=self.policy.pk).order_by("at", "id"))


def make_subject(tenant, kind: Kind, season: str) -> BackupPolicy:
    made_at = SEASONS[OTHER_SEASON[season]] if kind.other_season else SEASONS[season]
    policy = make_policy(tenant, payload=kind.payload, now=made_at)
    if kind.volumes:
        associate(policy, make_volumes(tenant, {f"vol{n}.img": b"x" * 1024 for n in range(kind.volumes)}))
    return policy


# --- The entrances: the same request through each ---------------------------------------------


def _ids(w: World) -> dict:
    return {"project_id": w.tenant.project_id, "policy_id": w.policy.pk}


def dashboard_data(w: World, payload: dict) -> dict:
    """What a person enters in the dashboard's form to send ``payload``, tag rows included."""
    return form_data_from_payload(payload, now=w.now)


ADMIN_FIELDS = {
    "backup_policy_name": "name",
    "scheduled_policy.status": "status",
    "scheduled_policy.start_time": "start_time",
    "scheduled_policy.frequency": "frequency",
    "scheduled_policy.week_frequency": "week_frequency",
    "scheduled_policy.rentention_num": "retention_num",
    "scheduled_policy.rentention_day": "retention_day",
    "time_zone": "time_zone",
    "time_zone_name": "time_zone_name",
}


def admin_data(page: dict, payload: dict) -> dict:
    """The admin's change page data (``page``) with its fields set to send ``payload``."""
    data = dict(page)
    scheduled = payload.get("scheduled_policy") or {}
    for path, name in ADMIN_FIELDS.items():
        outer, _, inner = path.partition(".")
        value = scheduled.get(inner) if inner else payload.get(outer)
        if isinstance(value, list):
            value = ",".join(value)
        data[name] = "" if value is None else str(value)
    data.pop("keep_first_of_month", None)
    if scheduled.get("remain_first_backup_of_curMonth") == "Y":
        data["keep_first_of_month"] = "on"
    return data


def admin_tag_rows(page: dict, tags: list[specs.Tag]) -> dict:
    """Set the admin's tag rows to ``tags``: existing rows kept, changed or deleted; new rows added."""
    data = dict(page)
    existing = int(data["tags-INITIAL_FORMS"])
    wanted = {tag.key: tag.value for tag in tags}
    kept = []
    for index in range(existing):
        key = data[f"tags-{index}-key"]
        if key in wanted:
            data[f"tags-{index}-value"] = wanted[key]
            kept.append(key)
        else:
            data[f"tags-{index}-DELETE"] = "on"
    return set_tags(data, [(tag.key, tag.value) for tag in tags if tag.key not in kept])


class Outcome:
    """What an entrance answered: stored (True) or refused, with the codes it named."""

    def __init__(self, ok: bool, codes_named: tuple[str, ...] = ()) -> None:
        self.ok, self.codes = ok, codes_named


def _dashboard_outcome(response) -> Outcome:
    if response.status_code in (HTTPStatus.FOUND, HTTPStatus.OK) and "HX-Redirect" in response:
        return Outcome(True)
    if response.status_code == HTTPStatus.FOUND:
        return Outcome(True)
    assert response.status_code == HTTPStatus.OK, response.status_code
    return Outcome(False, tuple(p.code for p in response.context["form"].problems))


def _admin_outcome(response) -> Outcome:
    if response.status_code == HTTPStatus.FOUND:
        return Outcome(True)
    assert response.status_code == HTTPStatus.OK, response.status_code
    form = response.context["adminform"].form
    named = tuple(p.code for p in form.problems)
    assert form.errors or any(
        f.errors or f.non_form_errors() for f in response.context["inline_admin_formsets"]
    )
    return Outcome(False, named)


def _api_outcome(response, ok_status: int) -> Outcome:
    if response.status_code == ok_status:
        return Outcome(True)
    return Outcome(False, (response.json()["error"]["code"],))


class Entrances:
    """Each operation through each entrance; an entrance without the operation has no method for it."""

    # -- create

    @staticmethod
    def create_api(w: World, payload: dict) -> Outcome:
        return _api_outcome(w.api.post(create_url(w.tenant), payload), HTTPStatus.OK)

    @staticmethod
    def create_dashboard(w: World, payload: dict) -> Outcome:
        url = reverse("policies:policy_create", kwargs={"project_id": w.tenant.project_id})
        return _dashboard_outcome(w.web.post(url, dashboard_data(w, payload)))

    @staticmethod
    def create_admin(w: World, payload: dict) -> Outcome:
        page = page_data(w.admin.get(admin_url("backuppolicy", "add")))
        data = admin_data({**page, "tenant": str(w.tenant.pk)}, payload)
        data = set_tags(data, [(t["key"], t["value"]) for t in payload.get("tags", [])])
        return _admin_outcome(w.admin.post(admin_url("backuppolicy", "add"), data))

    # -- a change of the policy's fields (the API's modify body; the forms show the merged whole)

    @staticmethod
    def modify_api(w: World, body: dict) -> Outcome:
        return _api_outcome(send(w.api, "PUT", policy_url(w.tenant, w.policy), body), HTTPStatus.OK)

    @staticmethod
    def modify_dashboard(w: World, body: dict) -> Outcome:
        current = w.spec()
        merged = {**parse.merge_policy_update(body, current), "tags": _tag_list(current.tags)}
        url = reverse("policies:policy_edit", kwargs=_ids(w))
        return _dashboard_outcome(w.web.post(url, dashboard_data(w, merged)))

    @staticmethod
    def modify_admin(w: World, body: dict) -> Outcome:
        current = w.spec()
        merged = parse.merge_policy_update(body, current)
        url = admin_url("backuppolicy", "change", w.policy.pk)
        return _admin_outcome(w.admin.post(url, admin_data(page_data(w.admin.get(url)), merged)))

    # -- the tags: the API's routes; the forms' tag rows

    @staticmethod
    def tags_api(w: World, route: str, body: Any) -> Outcome:
        method, rest = route.split(" ")
        url = policy_url(w.tenant, w.policy) + rest
        ok = HTTPStatus.NO_CONTENT
        return _api_outcome(send(w.api, method, url, body), ok)

    @staticmethod
    def tags_dashboard(w: World, tags: list[specs.Tag]) -> Outcome:
        payload = {**w.spec().to_payload(), "tags": _tag_list(tags)}
        url = reverse("policies:policy_edit", kwargs=_ids(w))
        return _dashboard_outcome(w.web.post(url, dashboard_data(w, payload)))

    @staticmethod
    def tags_admin(w: World, tags: list[specs.Tag]) -> Outcome:
        url = admin_url("backuppolicy", "change", w.policy.pk)
        return _admin_outcome(w.admin.post(url, admin_tag_rows(page_data(w.admin.get(url)), tags)))


def _tag_list(tags) -> list[dict]:
    return [{"key": tag.key, "value": tag.value} for tag in tags]


# --- The operations: each drives one entrance and asserts the cell's outcome ------------------


def _assert_change(w: World, before: specs.PolicySpec, result: specs.ParseResult, outcome: Outcome, events):
    """The entrance did what the core says of the request: stored its spec, or refused it alike."""
    after = w.spec()
    new_events = w.events()[len(events) :]
    if result.ok:
        assert outcome.ok, outcome.codes
        expected = result.spec
        assert after == expected, (after, expected)
        changes = audit_changes(before, expected)
        if changes:
            [event] = new_events
            assert set(event.changes) == set(changes)
        else:
            assert new_events == []
    else:
        assert not outcome.ok
        assert outcome.codes[0] == result.problems[0].code
        assert after == before
        assert new_events == []


def op_create(w: World, entrance: str) -> None:
    payload = {**w.kind.payload, "backup_policy_name": "created"}
    expected = parse.parse_policy(payload, now=w.now)
    outcome = getattr(Entrances, f"create_{entrance}")(w, payload)
    assert outcome.ok, outcome.codes
    stored = BackupPolicy.objects.get(tenant=w.tenant, name="created")
    assert stored.to_spec() == expected.spec
    assert stored.next_run_at == _first_run(expected.spec, w.now)
    [event] = AuditEvent.objects.filter(policy_id=stored.pk)
    assert (event.action, event.entrance) == ("create", entrance)


def _first_run(spec: specs.PolicySpec, now: datetime):
    run = nextruns.next_run(spec, start=now)
    return None if run is None else run.utc


def edit(body_of):
    """An operation that sends one modify (``body_of(spec)``) and holds the entrance to the core."""

    def op(w: World, entrance: str) -> None:
        before, events = w.spec(), w.events()
        body = body_of(before)
        if entrance == "dashboard":
            body = in_local_order(body, before, w.now)
        result = parse.parse_policy_update(body, before, policy_id=str(w.policy.pk), now=w.now)
        outcome = getattr(Entrances, f"modify_{entrance}")(w, body)
        _assert_change(w, before, result, outcome, events)

    return op


def in_local_order(body: dict, current: specs.PolicySpec, now: datetime) -> dict:
    """The body with the start times the dashboard's hour grid sends: in local order, as ticked.

    Its boxes are a set of hours drawn in local order, so it cannot send them in another.
    """
    merged = parse.merge_policy_update(body, current)
    if merged.get("time_zone"):
        offset = offsets.parse_offset(merged["time_zone"])
    elif merged.get("time_zone_name"):
        offset = zones.zone_offset_minutes(ZoneInfo(merged["time_zone_name"]), now)
    else:
        offset = 0
    hours = [int(part[:2]) for part in merged["scheduled_policy"]["start_time"].split(",")]
    ordered = sorted(hours, key=lambda hour: offsets.local_minute(hour, offset))
    if ordered == hours:
        return body
    start_time = ",".join(f"{hour:02d}:00" for hour in ordered)
    return {**body, "scheduled_policy": {**body.get("scheduled_policy", {}), "start_time": start_time}}


def _local_hour_in_utc(spec: specs.PolicySpec, local_hour: int) -> str:
    return f"{(local_hour * 60 - spec.offset_minutes) % 1440 // 60:02d}:00"


FIELD_EDITS = {
    "name": lambda s: {"backup_policy_name": "renamed"},
    "start_time": lambda s: {
        "scheduled_policy": {"start_time": _local_hour_in_utc(s, 5 if 5 not in s.start_hours else 6)}
    },
    "repeat": lambda s: (
        {"scheduled_policy": {"week_frequency": ["TUE", "SAT"]}}
        if s.frequency
        else {"scheduled_policy": {"frequency": 2}}
    ),
    "retention": lambda s: (
        {"scheduled_policy": {"rentention_day": 12}}
        if s.retention_num
        else {"scheduled_policy": {"rentention_num": 4}}
    ),
    "keep_first": lambda s: {
        "scheduled_policy": {"remain_first_backup_of_curMonth": "N" if s.keep_first_of_month else "Y"}
    },
    "status": lambda s: {"scheduled_policy": {"status": "OFF" if s.enabled else "ON"}},
    "time_zone": lambda s: {"time_zone": "UTC-04:00"},
    "time_zone_name": lambda s: {"time_zone_name": "America/Chicago"},
}


def op_edit_unchanged(w: World, entrance: str) -> None:
    """The page read and saved as it is: nothing announced in the preview, nothing changed or recorded."""
    before, events = w.spec(), w.events()
    if entrance == "api":
        # What a client reads back (the list's resource) sent back as a modify.
        body = {k: v for k, v in before.to_payload().items() if k != "tags"}
        response = send(w.api, "PUT", policy_url(w.tenant, w.policy), body)
        assert response.status_code == HTTPStatus.OK, response.content
    elif entrance == "dashboard":
        page = w.web.get(reverse("policies:policy_edit", kwargs=_ids(w)))
        data = {key: page.context["form"].data.get(key) for key in page.context["form"].data}
        assert page.context["changes"] == []
        preview = w.web.post(reverse("policies:policy_edit_preview", kwargs=_ids(w)), data, **HTMX)
        assert "None yet: the form shows the policy as stored." in html.unescape(preview.content.decode())
        response = w.web.post(reverse("policies:policy_edit", kwargs=_ids(w)), data)
        assert response.status_code == HTTPStatus.FOUND
    else:
        url = admin_url("backuppolicy", "change", w.policy.pk)
        data = page_data(w.admin.get(url))
        target = reverse("admin:policies_backuppolicy_preview_change", args=[w.policy.pk])
        preview = w.admin.post(target, data, **HTMX)
        assert "None yet: the form shows the policy as stored." in html.unescape(preview.content.decode())
        assert w.admin.post(url, data).status_code == HTTPStatus.FOUND
    assert w.spec() == before
    assert w.events() == events


def op_switch(w: World, entrance: str) -> None:
    before, events = w.spec(), w.events()
    target = "OFF" if before.enabled else "ON"
    if entrance == "api":
        response = send(
            w.api, "PUT", policy_url(w.tenant, w.policy), {"scheduled_policy": {"status": target}}
        )
        assert response.status_code == HTTPStatus.OK, response.content
    elif entrance == "dashboard":
        url = reverse("policies:policy_toggle", kwargs=_ids(w))
        answer = html.unescape(w.web.post(url, {"status": target}, **HTMX).content.decode())
        assert f"is {'on' if target == 'ON' else 'off'}:" in answer
    else:
        action = "enable" if target == "ON" else "disable"
        changelist = admin_url("backuppolicy", "changelist")
        w.admin.post(changelist, {"action": action, "_selected_action": [w.policy.pk]})
    after = w.spec()
    assert after.status == target
    [event] = w.events()[len(events) :]
    assert event.changes == {"scheduled_policy.status": {"before": before.status, "after": target}}
    assert (event.entrance, event.action) == (entrance, "change")


def op_bulk(w: World, entrance: str) -> None:
    """The admin's actions over the kind's policy and another: both end in the status chosen."""
    companion = make_policy(
        w.tenant,
        payload={**body(weekly("07:00"), time_zone="UTC+03:00"), "backup_policy_name": "companion"},
        now=w.now,
    )
    for action, status in (("disable", "OFF"), ("enable", "ON")):
        response = w.admin.post(
            admin_url("backuppolicy", "changelist"),
            {"action": action, "_selected_action": [w.policy.pk, companion.pk]},
            follow=True,
        )
        shown = [str(message) for message in response.context["messages"]]
        assert not any(text.startswith("Not changed") for text in shown), shown
        assert set(BackupPolicy.objects.values_list("status", flat=True)) == {status}


def _runs_utc(runs) -> list[datetime]:
    return [run.utc for run in runs]


def op_forecast(w: World, entrance: str) -> None:
    """The next runs an entrance shows are the scheduler's: the first is the stored next_run_at."""
    spec = w.spec()
    expected = _runs_utc(nextruns.next_runs(spec, start=w.now, count=4, zone=None))
    if entrance == "api":
        response = w.api.request("GET", policy_url(w.tenant, w.policy) + "/nextruns?count=4")
        assert response.status_code == HTTPStatus.OK, response.content
        shown = [datetime.fromisoformat(run["utc"].replace("Z", "+00:00")) for run in response.json()["runs"]]
    elif entrance == "dashboard":
        page = w.web.get(reverse("policies:policy_edit", kwargs=_ids(w)))
        shown = _runs_utc(page.context["preview"].forecast.runs)[:4] if spec.enabled else []
        listed = w.web.get(reverse("policies:policy_list", kwargs={"project_id": w.tenant.project_id}))
        [row] = [row for row in listed.context["rows"] if row.policy.pk == w.policy.pk]
        assert (row.next_run.utc if row.next_run else None) == (expected[0] if expected else None)
    else:
        url = admin_url("backuppolicy", "change", w.policy.pk)
        target = reverse("admin:policies_backuppolicy_preview_change", args=[w.policy.pk])
        preview = w.admin.post(target, page_data(w.admin.get(url)), **HTMX)
        shown = _runs_utc(preview.context["preview"].forecast.runs)[:4] if spec.enabled else []
    assert shown == expected
    stored = BackupPolicy.objects.get(pk=w.policy.pk).next_run_at
    assert stored == (expected[0] if expected else None)


TAG_OPS = {
    # name: (the API's route and body, the tag list it leaves from the stored one)
    "tag_add": (
        lambda tags: ("POST /tags", {"tag": {"key": "added", "value": "yes"}}),
        lambda tags: [*tags, specs.Tag("added", "yes")],
    ),
    "tag_delete": (
        lambda tags: (f"DELETE /tags/{tags[0].key}", None),
        lambda tags: tags[1:],
    ),
    "tag_batch": (
        lambda tags: (
            "POST /tags/action",
            {"action": "create", "tags": [{"key": "b1", "value": "one"}, {"key": "b2", "value": ""}]},
        ),
        lambda tags: [*tags, specs.Tag("b1", "one"), specs.Tag("b2", "")],
    ),
    "tag_update": (
        lambda tags: (
            "POST /tags/action",
            {"action": "update", "tags": [{"key": tags[0].key, "value": "changed"}]},
        ),
        lambda tags: [specs.Tag(tags[0].key, "changed"), *tags[1:]],
    ),
    "tag_batch_delete": (
        lambda tags: ("POST /tags/action", {"action": "delete", "tags": [{"key": tags[0].key}]}),
        lambda tags: tags[1:],
    ),
}
# The operations that need a tag to work on: one is added first when the kind has none.
NEEDS_A_TAG = {"tag_delete", "tag_update", "tag_batch_delete"}


def tag_op(name: str):
    request_of, result_of = TAG_OPS[name]

    def op(w: World, entrance: str) -> None:
        if name in NEEDS_A_TAG and not w.spec().tags:
            services.policy_tag_put(
                policy=w.policy, tag=specs.Tag("doomed", "x"), actor=audit.Actor.command()
            )
        before, events = w.spec(), w.events()
        tags = list(before.tags)
        wanted = result_of(tags)
        if entrance == "api":
            outcome = Entrances.tags_api(w, *request_of(tags))
        else:
            outcome = getattr(Entrances, f"tags_{entrance}")(w, wanted)
        assert outcome.ok, outcome.codes
        after = w.spec()
        assert list(after.tags) == wanted
        assert after == specs.PolicySpec(**{**before.__dict__, "tags": tuple(wanted)})
        [event] = w.events()[len(events) :]
        assert set(event.changes) == {"tags"}

    return op


def _spare_volume(w: World) -> Volume:
    return make_volumes(w.tenant, {"spare.img": b"s" * 2048})[0]


def op_associate(w: World, entrance: str) -> None:
    volume, held = _spare_volume(w), set(Volume.objects.filter(policy=w.policy))
    if entrance == "api":
        body_ = {
            "backup_policy_id": str(w.policy.pk),
            "resources": [{"resource_id": str(volume.resource_id), "resource_type": "volume"}],
        }
        response = w.api.post(f"/v2/{w.tenant.project_id}/backuppolicyresources", body_)
        assert response.status_code == HTTPStatus.OK, response.content
        assert response.json()["fail_resources"] == []
    else:
        url = reverse("policies:policy_volumes_add", kwargs=_ids(w))
        assert w.web.post(url, {"resource_id": str(volume.resource_id)}).status_code == HTTPStatus.FOUND
    assert set(Volume.objects.filter(policy=w.policy)) == {*held, volume}
    assert w.events()[-1].action == "associate"


def op_disassociate(w: World, entrance: str) -> None:
    if not Volume.objects.filter(policy=w.policy).exists():
        associate(w.policy, [_spare_volume(w)])
    volume = Volume.objects.filter(policy=w.policy).order_by("name").first()
    if entrance == "api":
        url = f"/v2/{w.tenant.project_id}/backuppolicyresources/{w.policy.pk}/deleted_resources"
        response = w.api.post(url, {"resources": [{"resource_id": str(volume.resource_id)}]})
        assert response.status_code == HTTPStatus.OK, response.content
        assert response.json()["fail_resources"] == []
    else:
        url = reverse("policies:policy_volumes_remove", kwargs=_ids(w))
        assert w.web.post(url, {"resource_id": str(volume.resource_id)}).status_code == HTTPStatus.FOUND
    assert not Volume.objects.filter(policy=w.policy, pk=volume.pk).exists()
    assert w.events()[-1].action == "disassociate"


def op_run_now(w: World, entrance: str) -> None:
    """One task per volume, whatever the status; refused alike when the policy holds no volume."""
    held = Volume.objects.filter(policy=w.policy).count()
    if entrance == "api":
        response = w.api.post(policy_url(w.tenant, w.policy) + "/action")
        started = response.status_code == HTTPStatus.NO_CONTENT
        if not started:
            assert response.json()["error"]["code"] == codes_no_volumes()
    else:
        response = w.web.post(reverse("policies:policy_run", kwargs=_ids(w)), follow=True)
        shown = [str(message) for message in response.context["messages"]]
        started = any(text.startswith("Run started") for text in shown)
        assert started or any(text.startswith("Not started: the policy has no volumes") for text in shown)
    assert started == bool(held)
    assert BackupTask.objects.filter(policy=w.policy).count() == held


def op_run_now_twice(w: World, entrance: str) -> None:
    """A second Run now while the first run's tasks wait is refused, by both entrances alike."""
    if not Volume.objects.filter(policy=w.policy).exists():
        associate(w.policy, [_spare_volume(w)])
    volumes.policy_execute(policy=w.policy, actor=audit.Actor.command())
    waiting = BackupTask.objects.filter(policy=w.policy).count()
    if entrance == "api":
        response = w.api.post(policy_url(w.tenant, w.policy) + "/action")
        assert response.status_code == HTTPStatus.CONFLICT, response.content
        assert response.json()["error"]["code"] == domain_volumes.RUN_IN_PROGRESS
    else:
        response = w.web.post(reverse("policies:policy_run", kwargs=_ids(w)), follow=True)
        shown = [str(message) for message in response.context["messages"]]
        assert any(text.startswith("Not started: a run of this policy is still going") for text in shown)
    assert BackupTask.objects.filter(policy=w.policy).count() == waiting


def op_rename_onto_a_taken_name(w: World, entrance: str) -> None:
    """A rename onto another policy's name (ignoring case) is refused alike, nothing written."""
    make_policy(w.tenant, payload={**body(weekly("07:00")), "backup_policy_name": "Taken"}, now=w.now)
    before, events = w.spec(), w.events()
    outcome = getattr(Entrances, f"modify_{entrance}")(w, {"backup_policy_name": "taken"})
    assert not outcome.ok
    assert outcome.codes[0] == services.name_taken_problem("taken").code
    assert (w.spec(), w.events()) == (before, events)


def codes_no_volumes() -> str:
    return domain_volumes.NO_RESOURCES


def op_delete(w: World, entrance: str) -> None:
    if entrance == "api":
        assert send(w.api, "DELETE", policy_url(w.tenant, w.policy)).status_code == HTTPStatus.NO_CONTENT
    elif entrance == "dashboard":
        url = reverse("policies:policy_delete", kwargs=_ids(w))
        assert w.web.post(url).status_code == HTTPStatus.FOUND
    else:
        url = admin_url("backuppolicy", "delete", w.policy.pk)
        assert w.admin.post(url, {"post": "yes"}).status_code == HTTPStatus.FOUND
    assert not BackupPolicy.objects.filter(pk=w.policy.pk).exists()
    assert (w.events()[-1].action, w.events()[-1].entrance) == ("delete", entrance)


ALL = ("api", "dashboard", "admin")
NO_ADMIN = ("api", "dashboard")

# operation name: (the function, the entrances that offer it). The admin has no volumes or
# runs of a policy (its runs pages are read-only), and only the admin has bulk actions.
OPERATIONS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "create": (op_create, ALL),
    "edit_unchanged": (op_edit_unchanged, ALL),
    **{f"edit_{name}": (edit(body_of), ALL) for name, body_of in FIELD_EDITS.items()},
    "switch": (op_switch, ALL),
    "bulk_enable_disable": (op_bulk, ("admin",)),
    "forecast": (op_forecast, ALL),
    **{name: (tag_op(name), ALL) for name in TAG_OPS},
    "associate": (op_associate, NO_ADMIN),
    "disassociate": (op_disassociate, NO_ADMIN),
    "run_now": (op_run_now, NO_ADMIN),
    "run_now_twice": (op_run_now_twice, NO_ADMIN),
    "rename_onto_a_taken_name": (op_rename_onto_a_taken_name, ALL),
    "delete": (op_delete, ALL),
}


def seasons_of(kind: Kind) -> tuple[str, ...]:
    """Both seasons for a named zone (its offset, its re-base and its forecast change with them);
    one for a fixed offset, which no season changes."""
    return tuple(SEASONS) if kind.payload.get("time_zone_name") else ("winter",)


def cells() -> list[tuple[str, str, str, str]]:
    """Every (kind, operation, entrance, season) the entrances offer."""
    return [
        (kind, operation, entrance, season)
        for kind, spec in KINDS.items()
        for operation, (_, entrances) in OPERATIONS.items()
        for entrance in entrances
        for season in seasons_of(spec)
    ]
