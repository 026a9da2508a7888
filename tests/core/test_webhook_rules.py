"""The rules of a webhook body, an e-mail recipient and the retry schedule (the pure core)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.domain.contract import codes
from policies.domain.contract import webhooks as rules
from policies.domain.event_words import event_subject


def parse(webhook, *, allow_http=False):
    return rules.parse_webhook_body({"webhook": webhook}, allow_http=allow_http)


def test_a_valid_body_gives_its_target_events_and_description():
    body, problems = parse({"url": "https://Hooks.Example.com:8443/in?x=1", "events": ["backup.failed"]})
    assert problems == []
    assert body.target == rules.Target("https", "hooks.example.com", 8443, "/in?x=1")
    assert body.target.host_header == "hooks.example.com:8443"
    assert body.events == ("backup.failed",)
    assert body.description == ""


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "hooks.example.com/in",
        "ftp://hooks.example.com/",
        "https:///nohost",
        "https://user:pw@hooks.example.com/",
        "https://hooks.example.com:99999/",
        "https://hooks.example.com/a b",
        "https://" + "a" * 2001 + ".com/",
        "http://hooks.example.com/",  # plain http in production
    ],
)
def test_a_bad_url_is_refused_with_the_url_code(url):
    body, problems = parse({"url": url, "events": ["backup.failed"]})
    assert body is None
    assert [p.code for p in problems] == [codes.WEBHOOK_URL]


def test_plain_http_is_accepted_when_the_settings_allow_it():
    body, problems = parse({"url": "http://hooks.example.com/", "events": ["run.missed"]}, allow_http=True)
    assert problems == []
    assert body.target.port == 80


@pytest.mark.parametrize(
    "events",
    [None, [], "backup.failed", ["backup.failed", "backup.failed"], ["nope"], [1], ["ping"]],
)
def test_bad_events_are_refused_with_the_events_code(events):
    body, problems = parse({"url": "https://hooks.example.com/", "events": events})
    assert body is None
    assert {p.code for p in problems} == {codes.WEBHOOK_EVENTS}


def test_every_problem_of_a_body_is_found_at_once():
    _, problems = parse({"url": "x", "events": [], "description": 5, "colour": "red"})
    assert {p.code for p in problems} == {
        codes.BAD_FIELD,
        codes.WEBHOOK_URL,
        codes.WEBHOOK_EVENTS,
        codes.WEBHOOK_DESCRIPTION,
    }


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_any_json_gives_a_body_or_problems_never_an_exception(value):
    body, problems = rules.parse_webhook_body(value, allow_http=True)
    assert (body is None) == bool(problems)


def test_the_retries_last_at_least_a_day_then_stop():
    delays = [rules.retry_delay(n) for n in range(1, rules.MAX_ATTEMPTS + 1)]
    assert delays[-1] is None
    assert sum(delays[:-1]) >= 24 * 3600
    assert delays[0] == 5


@pytest.mark.parametrize(
    ("address", "ok"), [("Ops@Example.com", True), ("ops", False), ("a@b", False), ("x y@example.com", False)]
)
def test_a_recipient_needs_an_email_address(address, ok):
    found, problems = rules.parse_recipient(address, ["backup.failed"])
    assert (found is not None) == ok
    if ok:
        assert found == ("ops@example.com", ("backup.failed",))
    else:
        assert [p.code for p in problems] == [codes.RECIPIENT_ADDRESS]


def test_the_subject_names_what_happened_and_to_what():
    details = {"policy_name": "nightly", "volume_name": "db.img"}
    assert (
        event_subject("backup.failed", details) == "[Backup Policy Console] backup failed: nightly / db.img"
    )
    assert event_subject("ping", {}) == "[Backup Policy Console] test notification"
    assert "\n" not in event_subject("backup.failed", {"policy_name": "a\nBcc: x@y"})
