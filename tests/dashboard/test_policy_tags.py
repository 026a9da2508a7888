"""Tags on the edit form: pre-filled rows; saving replaces the whole list, with the policy, or nothing."""

import re
from dataclasses import replace

import pytest
from django.urls import reverse

from policies import audit, services
from policies.domain.contract import codes, specs
from policies.models import AuditEvent, BackupPolicy
from tests.helpers.dashboard import error_items, form_data, input_tag, url
from tests.helpers.payloads import founding_payload, valid_payload
from tests.helpers.policies import make_policy

pytestmark = pytest.mark.django_db

TAGS = [{"key": "env", "value": "prod"}, {"key": "team", "value": ""}, {"key": "tier", "value": "gold"}]


def edit_url(policy):
    return reverse(
        "policies:policy_edit", kwargs={"project_id": policy.tenant.project_id, "policy_id": policy.pk}
    )


@pytest.fixture
def tagged(tenant):
    """The founding example (what form_data fills in) with three tags."""
    payload = founding_payload(backup_policy_name="nightly", tags=TAGS)
    return make_policy(tenant, payload=payload)


def tags_of(policy) -> list[tuple[str, str]]:
    return [(tag.key, tag.value) for tag in BackupPolicy.objects.get(pk=policy.pk).tags.all()]


def with_tags(pairs, **overrides):
    return form_data(tag_key=[k for k, _ in pairs], tag_value=[v for _, v in pairs], **overrides)


def test_the_edit_page_shows_each_stored_tag_in_order_and_a_spare_row(member, tagged):
    body = member.get(edit_url(tagged)).content.decode()
    rows = re.findall(r'name="tag_key" id="tag-key-(\d+)" value="([^"]*)"', body)
    assert rows == [("1", "env"), ("2", "team"), ("3", "tier"), ("4", "")]
    assert 'name="tag_value" id="tag-value-1" value="prod"' in body
    assert 'name="tag_value" id="tag-value-2" value=""' in body


def test_with_ten_tags_no_row_is_spare_and_add_tag_is_disabled(member, tenant):
    ten = [{"key": f"k{i}", "value": str(i)} for i in range(10)]
    policy = make_policy(tenant, payload=valid_payload(backup_policy_name="full", tags=ten))
    body = member.get(edit_url(policy)).content.decode()
    assert len(re.findall(r'name="tag_key" id="tag-key-\d+"', body)) == 10
    assert "data-add-tag disabled" in body


def test_saving_replaces_the_whole_list_in_the_forms_order(member, tagged):
    # "team" removed, "tier" changed, "app" added, and the order is the form's.
    pairs = [("tier", "silver"), ("env", "prod"), ("app", "db")]
    member.post(edit_url(tagged), with_tags(pairs))
    assert tags_of(tagged) == pairs
    [event] = AuditEvent.objects.filter(entrance="dashboard")
    assert event.changes["tags"]["after"] == [{"key": k, "value": v} for k, v in pairs]


def test_blank_rows_are_ignored_and_clearing_every_row_removes_every_tag(member, tagged):
    member.post(edit_url(tagged), with_tags([("", ""), ("env", "prod"), ("", "")]))
    assert tags_of(tagged) == [("env", "prod")]
    member.post(edit_url(tagged), with_tags([("", ""), ("", "")]))
    assert tags_of(tagged) == []


def test_tags_and_fields_changed_together_are_both_saved_by_one_request(member, tagged):
    response = member.post(edit_url(tagged), with_tags([("env", "test")], name="renamed"), follow=True)
    assert "Policy “renamed” saved." in response.content.decode()
    assert BackupPolicy.objects.get(pk=tagged.pk).name == "renamed"
    assert tags_of(tagged) == [("env", "test")]
    changed = [sorted(event.changes) for event in AuditEvent.objects.filter(entrance="dashboard")]
    assert changed == [["backup_policy_name", "tags"]]  # one save, one record


@pytest.mark.parametrize(
    ("pairs", "code", "row_error"),
    [
        ([("bad key", "x")], codes.TAG, "The key 'bad key' "),
        ([("env", "a b")], codes.TAG, "The value 'a b' "),
        ([("env", "1"), ("env", "2")], codes.TAG, ""),
        ([("", "orphan")], codes.TAG, "Enter a key for this tag"),
    ],
    ids=["key-chars", "value-chars", "repeated-key", "value-without-key"],
)
def test_a_refused_tag_is_shown_at_its_row_and_nothing_is_saved(member, tagged, pairs, code, row_error):
    response = member.post(edit_url(tagged), with_tags(pairs, name="renamed"))
    form = response.context["form"]
    assert [p.code for p in form.problems] == [code]
    assert any(error.startswith(row_error) for row in form.tag_rows for error in row.all_errors)
    # Neither the tags nor the rename of the same submit.
    assert BackupPolicy.objects.get(pk=tagged.pk).name == "nightly"
    assert tags_of(tagged) == [(t["key"], t["value"]) for t in TAGS]


def test_eleven_tags_are_refused_with_the_count_and_nothing_is_saved(member, tagged):
    pairs = [(f"k{i}", "") for i in range(11)]
    response = member.post(edit_url(tagged), with_tags(pairs, retention_num="9"))
    form = response.context["form"]
    assert [p.code for p in form.problems] == [codes.TAG_COUNT]
    assert form.tag_errors == ["A policy has at most 10 tags; remove 1."]
    assert BackupPolicy.objects.get(pk=tagged.pk).retention_num == 7
    assert len(tags_of(tagged)) == 3


def test_the_service_stores_the_modify_and_the_tags_together_or_not_at_all(tagged, user):
    # The form never sends eleven tags (the core refuses them first); the service still refuses
    # them, and then the modify of the same call is rolled back with them.
    current = tagged.to_spec()
    renamed = replace(current, name="renamed")
    eleven = tuple(specs.Tag(f"k{i}", "") for i in range(11))
    with pytest.raises(services.TagLimitExceeded):
        services.policy_update(
            policy=tagged, spec=replace(renamed, tags=eleven), actor=audit.Actor.dashboard(user)
        )
    assert BackupPolicy.objects.get(pk=tagged.pk).name == "nightly"
    assert not AuditEvent.objects.filter(entrance="dashboard").exists()


def test_an_invalid_key_with_an_empty_value_marks_only_the_key(member, tenant):
    data = form_data(tag_key=["bad key"], tag_value=[""])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert 'aria-invalid="true"' in input_tag(body, "tag-key-1")
    assert "aria-invalid" not in input_tag(body, "tag-value-1")
    assert error_items(body, "tag-errors-1")[0].startswith("The key 'bad key' ")


def test_an_invalid_value_marks_only_the_value(member, tenant):
    data = form_data(tag_key=["env"], tag_value=["pro d"])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert "aria-invalid" not in input_tag(body, "tag-key-1")
    assert 'aria-invalid="true"' in input_tag(body, "tag-value-1")


def test_a_value_without_a_key_asks_for_a_key(member, tenant):
    data = form_data(tag_key=[""], tag_value=["prod"])
    body = member.post(url("policy_create", tenant), data).content.decode()
    assert error_items(body, "tag-errors-1") == ["Enter a key for this tag (1 to 36 characters)."]


def test_eleven_tags_say_how_many_to_remove(member, tenant):
    keys = [f"k{i}" for i in range(11)]
    body = member.post(url("policy_create", tenant), form_data(tag_key=keys, tag_value=[""] * 11)).content
    assert error_items(body.decode(), "tags-errors") == ["A policy has at most 10 tags; remove 1."]


def test_add_tag_is_disabled_with_the_reason_at_ten_rows(member, tenant):
    keys = [f"k{i}" for i in range(10)]
    body = member.post(url("policy_create", tenant), form_data(name="", tag_key=keys, tag_value=[""] * 10))
    body = body.content.decode()
    assert body.count('name="tag_key"') == 10 + 1  # no spare row; the template
    assert 'data-add-tag disabled aria-describedby="tags-full"' in body
    assert '<p class="help" id="tags-full" data-tags-full>A policy has at most 10 tags' in body


def test_add_tag_is_enabled_below_ten_rows(member, tenant):
    body = member.get(url("policy_create", tenant)).content.decode()
    assert 'data-add-tag aria-describedby="tags-full"' in body
    assert "data-tags-full hidden>" in body
