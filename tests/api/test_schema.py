"""The OpenAPI description (drf-spectacular): valid, complete, true to the core, and served."""

import json
import os
import re
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from policies.domain.contract import codes, limits, parse
from policies.domain.schedule import offsets
from tests.helpers.payloads import ERROR_ROWS

ROOT = Path(__file__).resolve().parents[2]

# Every operation of the lifecycle and create (docs/api.md), as the schema must list it.
CONTRACT_OPERATIONS = {
    ("get", "/v2/{project_id}/backuppolicy"),
    ("post", "/v2/{project_id}/backuppolicy"),
    ("put", "/v2/{project_id}/backuppolicy/{policy_id}"),
    ("delete", "/v2/{project_id}/backuppolicy/{policy_id}"),
    ("get", "/v2/{project_id}/backuppolicy/tags"),
    ("get", "/v2/{project_id}/backuppolicy/{policy_id}/tags"),
    ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags"),
    ("delete", "/v2/{project_id}/backuppolicy/{policy_id}/tags/{key}"),
    ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags/action"),
}
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def document() -> dict:
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True)))


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolve(document, node):
    while isinstance(node, dict) and "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def error_codes(document, operation, status: int) -> list[str]:
    envelope = resolve(document, operation["responses"][str(status)]["content"]["application/json"]["schema"])
    return envelope["properties"]["error"]["properties"]["code"]["enum"]


def component(document, name: str) -> dict:
    return document["components"]["schemas"][name]


# --- the generated document ---------------------------------------------------------------------


def test_manage_py_spectacular_validates_without_a_warning(tmp_path):
    out = tmp_path / "schema.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert "Error" not in result.stderr, result.stderr
    document = yaml.safe_load(out.read_text())
    assert document["openapi"].startswith("3.")
    assert {(method, path) for method, path, _ in operations(document)} >= CONTRACT_OPERATIONS


def test_every_path_of_the_schema_is_under_v2(document):
    assert document["paths"]
    assert all(path.startswith("/v2/{project_id}/") for path in document["paths"])


def test_every_operation_has_an_id_a_summary_and_the_x_auth_token_scheme(document):
    assert document["components"]["securitySchemes"]["XAuthToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": document["components"]["securitySchemes"]["XAuthToken"]["description"],
    }
    for _method, _path, operation in operations(document):
        assert operation["operationId"]
        assert operation["summary"]
        assert operation["security"] == [{"XAuthToken": []}]


@pytest.mark.parametrize(("method", "path"), sorted(CONTRACT_OPERATIONS))
def test_every_refusal_of_an_operation_is_the_envelope_with_its_codes(document, method, path):
    operation = document["paths"][path][method]
    expected = {"401", "403", "404", "406", "500", "400"}
    if "requestBody" in operation:
        expected |= {"413", "415"}
        assert operation["requestBody"]["required"] is True
    errors = {status for status in operation["responses"] if status >= "400"}
    assert expected <= errors
    for status in errors:
        answer = operation["responses"][status]
        envelope = resolve(document, answer["content"]["application/json"]["schema"])
        assert envelope["required"] == ["error"]
        assert envelope["additionalProperties"] is False
        codes = error_codes(document, operation, int(status))
        assert codes
        assert all(re.fullmatch(r"AutoBackup\.[0-9]{4}", code) for code in codes)
        assert all(code in answer["description"] for code in codes)


def test_the_create_400_lists_every_code_of_the_error_table(document):
    operation = document["paths"]["/v2/{project_id}/backuppolicy"]["post"]
    listed = set(error_codes(document, operation, 400))
    assert {code for _, _, status, code in ERROR_ROWS if status == 400} | {codes.QUOTA} <= listed
    assert error_codes(document, operation, 409) == [codes.NAME_TAKEN]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("put", "/v2/{project_id}/backuppolicy/{policy_id}", 404, codes.POLICY_NOT_FOUND),
        ("put", "/v2/{project_id}/backuppolicy/{policy_id}", 409, codes.NAME_TAKEN),
        ("delete", "/v2/{project_id}/backuppolicy/{policy_id}", 404, codes.POLICY_NOT_FOUND),
        ("delete", "/v2/{project_id}/backuppolicy/{policy_id}/tags/{key}", 404, codes.TAG_NOT_FOUND),
        ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags", 400, codes.TAG_COUNT),
        ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags/action", 400, codes.TAG_ACTION),
        ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags/action", 400, codes.TAG_COUNT),
        ("get", "/v2/{project_id}/backuppolicy", 401, codes.NO_TOKEN),
        ("get", "/v2/{project_id}/backuppolicy/tags", 403, codes.FORBIDDEN_PROJECT),
    ],
)
def test_the_codes_of_section_3_are_documented_where_they_happen(document, method, path, status, code):
    assert code in error_codes(document, document["paths"][path][method], status)


@pytest.mark.parametrize(
    ("method", "path", "status", "name"),
    [
        ("get", "/v2/{project_id}/backuppolicy", "200", "BackupPolicyList"),
        ("post", "/v2/{project_id}/backuppolicy", "200", "BackupPolicyId"),
        ("put", "/v2/{project_id}/backuppolicy/{policy_id}", "200", "BackupPolicyId"),
        ("get", "/v2/{project_id}/backuppolicy/tags", "200", "ProjectTags"),
        ("get", "/v2/{project_id}/backuppolicy/{policy_id}/tags", "200", "PolicyTags"),
    ],
)
def test_each_success_body_has_its_schema(document, method, path, status, name):
    answer = document["paths"][path][method]["responses"][status]
    assert answer["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{name}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/v2/{project_id}/backuppolicy/{policy_id}"),
        ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags"),
        ("delete", "/v2/{project_id}/backuppolicy/{policy_id}/tags/{key}"),
        ("post", "/v2/{project_id}/backuppolicy/{policy_id}/tags/action"),
    ],
)
def test_a_204_is_documented_without_a_body(document, method, path):
    answer = document["paths"][path][method]["responses"]["204"]
    assert "content" not in answer


# --- the bodies say the real contract -----------------------------------------------------------


def scheduled_policy_variants(document) -> list[dict]:
    """The variants of ``scheduled_policy``: one per way of filling both pairs."""
    return component(document, "ScheduledPolicy")["anyOf"]


def every_member_variant(document) -> dict:
    """The variant that requires both members of both pairs (each field with its full rule)."""
    return next(v for v in scheduled_policy_variants(document) if len(v["required"]) == 6)


def test_the_create_body_keeps_the_contracts_spellings_and_refuses_unknown_fields(document):
    create = component(document, "BackupPolicyCreate")
    assert create["additionalProperties"] is False
    assert set(create["properties"]) == set(limits.TOP_LEVEL_FIELDS)
    assert set(create["required"]) == {"backup_policy_name", "scheduled_policy"}
    variants = scheduled_policy_variants(document)
    assert len(variants) == 9
    for inner in variants:
        assert inner["additionalProperties"] is False
        assert set(inner["properties"]) == set(limits.SCHEDULE_FIELDS)
        assert {"start_time", "status"} <= set(inner["required"])
    assert {"rentention_num", "rentention_day", "remain_first_backup_of_curMonth"} <= set(inner["properties"])


def test_the_create_body_states_the_ranges_and_enums_of_the_core(document):
    fields = every_member_variant(document)["properties"]
    assert (fields["frequency"]["minimum"], fields["frequency"]["maximum"]) == limits.FREQUENCY_RANGE
    assert (fields["rentention_num"]["minimum"], fields["rentention_num"]["maximum"]) == (
        limits.RETENTION_NUM_RANGE
    )
    assert fields["rentention_day"]["minimum"] == limits.RETENTION_DAY_RANGE[0]
    assert fields["week_frequency"]["items"]["enum"] == list(limits.WEEKDAYS)
    assert fields["status"]["enum"] == ["ON", "OFF"]
    assert fields["remain_first_backup_of_curMonth"]["enum"] == ["Y", "N", None]
    tags = component(document, "BackupPolicyCreate")["properties"]["tags"]
    assert tags["maxItems"] == limits.MAX_TAGS


def test_the_modify_body_has_no_tags_and_no_required_field(document):
    update = component(document, "BackupPolicyUpdate")
    # backup_policy_id: the path's own ID, which real clients repeat in the body.
    assert set(update["properties"]) == {*parse.MODIFY_FIELDS, "backup_policy_id"}
    assert "required" not in update
    assert update["minProperties"] == 1
    assert "required" not in component(document, "ScheduledPolicyUpdate")


def nodes(value):
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from nodes(item)
    elif isinstance(value, list):
        for item in value:
            yield from nodes(item)


def test_a_nullable_enum_lists_null_so_that_null_is_valid_where_the_api_accepts_it(document):
    # Found by schemathesis: OpenAPI 3.0 admits null in an enum only when the enum lists it, so
    # {"scheduled_policy": {"status": null}} (accepted by modify: null keeps) broke the schema.
    nullable_enums = [node for node in nodes(document) if node.get("nullable") and "enum" in node]
    assert nullable_enums
    assert all(None in node["enum"] for node in nullable_enums)
    status = component(document, "ScheduledPolicyUpdate")["properties"]["status"]
    assert status["enum"] == ["ON", "OFF", None]


VALID_SCHEDULE = {"start_time": "01:00", "status": "ON", "frequency": 1, "rentention_num": 2}


def pattern_of(document, component_name: str, field: str) -> re.Pattern:
    schema = component(document, component_name)
    properties = schema["properties"] if "properties" in schema else schema["anyOf"][0]["properties"]
    return re.compile(properties[field]["pattern"])


def accepts(pattern: re.Pattern, text: str) -> bool:
    # JSON Schema patterns are unanchored searches; ours anchor themselves. "$" in Python also
    # matches before a final newline, so the texts below have none.
    return pattern.search(text) is not None


OFFSET_TEXT = st.builds(
    "UTC{}{:02d}:{:02d}".format,
    st.sampled_from("+-"),
    st.integers(0, 15),
    st.sampled_from([0, 15, 30, 45, 60]),
)


@hypothesis_settings(deadline=None)  # no timed assertion: a loaded machine is not a failure
@given(text=OFFSET_TEXT)
def test_the_time_zone_pattern_accepts_exactly_what_the_core_accepts(document, text):
    try:
        offsets.parse_offset(text)
        valid = True
    except ValueError:
        valid = False
    assert accepts(pattern_of(document, "BackupPolicyCreate", "time_zone"), text) == valid


@hypothesis_settings(deadline=None)  # no timed assertion: a loaded machine is not a failure
@given(text=st.text(alphabet="Dd0123456789efaultEFAULT_-x é", max_size=70))
def test_the_name_schema_accepts_exactly_what_the_core_accepts(document, text):
    name = component(document, "BackupPolicyCreate")["properties"]["backup_policy_name"]
    by_schema = (
        name["minLength"] <= len(text) <= name["maxLength"]
        and accepts(re.compile(name["pattern"]), text)
        and not accepts(re.compile(name["not"]["pattern"]), text)
    )
    result = parse.parse_policy({"backup_policy_name": text, "scheduled_policy": VALID_SCHEDULE})
    assert by_schema == result.ok


TIME_ITEMS = st.lists(
    st.sampled_from(
        ["00:00", "09:00", "23:00", " 12:00 ", "\t05:00", "24:00", "7:00", "12:30", "12:00:00", ""]
    ),
    min_size=1,
    max_size=4,
    unique=True,
)


@hypothesis_settings(deadline=None)  # no timed assertion: a loaded machine is not a failure
@given(items=TIME_ITEMS)
def test_the_start_time_pattern_accepts_exactly_the_format_the_core_accepts(document, items):
    # Distinct items, no time zone: only the format decides (the pattern cannot say "each hour
    # once" or the local order, which the descriptions state instead).
    text = ",".join(items)
    if len({item.strip() for item in items}) < len(items):
        return
    ascending = [item.strip() for item in items] == sorted(item.strip() for item in items)
    by_core = parse.parse_policy(
        {"backup_policy_name": "p", "scheduled_policy": {**VALID_SCHEDULE, "start_time": text}}
    ).ok
    by_schema = accepts(pattern_of(document, "ScheduledPolicy", "start_time"), text)
    if ascending:
        assert by_core == by_schema, text
    else:
        assert by_schema or not by_core, text


def test_no_secret_is_in_the_schema(document):
    text = json.dumps(document)
    assert settings.SECRET_KEY not in text
    assert "bpc_" not in text
    assert "password" not in text.lower()


# --- served pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_is_served_without_a_token_as_yaml_and_json(client):
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(as_yaml.content)["paths"]
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200
    assert json.loads(as_json.content)["components"]["securitySchemes"]["XAuthToken"]["in"] == "header"


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/yaml", "application/vnd.oai.openapi", "*/*"])
def test_the_schema_page_is_not_refused_for_an_accept_without_json(client, accept):
    assert client.get("/api/schema/", HTTP_ACCEPT=accept).status_code == 200


@pytest.mark.django_db
def test_a_token_sent_to_the_schema_is_neither_needed_nor_checked(client):
    assert client.get("/api/schema/", HTTP_X_AUTH_TOKEN="bpc_unknown").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_the_schema_and_docs_pages_are_read_only(client, method):
    for path in ("/api/schema/", "/api/docs/"):
        assert getattr(client, method)(path).status_code == 405


@pytest.mark.django_db
def test_the_docs_page_loads_swagger_ui_from_our_static_files_not_a_cdn(client):
    response = client.get("/api/docs/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    # The start-up script is the page's own URL with ?script (no inline script: the CSP forbids it).
    assets.remove("/api/docs/?script=")
    assert all(
        asset.startswith(
            settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
        )
        for asset in assets
    )
    assert "cdn" not in html.lower()
    assert "https://" not in html
    assert "/api/schema/" in client.get("/api/docs/?script=").content.decode()


@pytest.mark.django_db
def test_the_docs_page_sets_no_cookie_and_embeds_no_token(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert not response.cookies
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert not script.cookies
    assert re.findall(r'X-CSRFTOKEN"\] = "([^"]*)"', script.content.decode(), re.IGNORECASE) == [""]


PRODUCTION_CHECK = textwrap.dedent(
    """
    import json, re, django
    django.setup()
    from django.test import Client
    client = Client(HTTP_HOST="docs.example.com")
    page = client.get("/api/docs/", secure=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.content.decode())
    served = {}
    for asset in assets:
        answer = client.get(asset, secure=True)
        body = b"".join(answer.streaming_content) if answer.streaming else answer.content
        served[asset] = [answer.status_code, len(body)]
    schema = client.get("/api/schema/?format=json", secure=True)
    print(json.dumps({"page": page.status_code, "assets": served, "schema": schema.status_code,
                      "paths": len(json.loads(schema.content)["paths"])}))
    """
)


def test_the_docs_page_and_its_assets_are_served_with_debug_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="docs.example.com",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["page"] == 200
    assert report["schema"] == 200
    assert report["paths"] >= 6
    assert len(report["assets"]) >= 3
    # Hashed names from the manifest, served by WhiteNoise, with content.
    for asset, (status, size) in report["assets"].items():
        assert status == 200, asset
        assert size > 0, asset
        if asset == "/api/docs/?script=":  # the start-up script, made per request
            continue
        assert re.search(r"\.[0-9a-f]{12}\.(js|css|png)$", asset), asset


def as_json_schema(document, node):
    """Inline the $refs and turn OpenAPI 3.0's ``nullable`` into JSON Schema's null type."""
    if isinstance(node, list):
        return [as_json_schema(document, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return as_json_schema(document, resolve(document, node))
    out = {key: as_json_schema(document, value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def schema_accepts(document, name: str, body) -> bool:
    import jsonschema

    schema = as_json_schema(document, {"$ref": f"#/components/schemas/{name}"})
    return jsonschema.Draft4Validator(schema).is_valid(body)


PAIR_VALUES = {
    "frequency": [1, None],
    "week_frequency": [["MON"], None],
    "rentention_num": [3, None],
    "rentention_day": [30, None],
}


@pytest.mark.parametrize("present", [0, 1, 2], ids=["absent", "value", "null"])
@pytest.mark.parametrize("member", list(PAIR_VALUES))
def test_the_pair_rules_of_the_schema_agree_with_the_core(document, member, present):
    inner = {"start_time": "12:00", "status": "ON", "frequency": 1, "rentention_num": 3}
    partner = {"frequency": "week_frequency", "rentention_num": "rentention_day"}
    partner.update({v: k for k, v in list(partner.items())})
    inner.pop(partner[member], None)
    inner.pop(member, None)
    if present:
        inner[member] = PAIR_VALUES[member][present - 1]
    body = {"backup_policy_name": "p1", "scheduled_policy": inner}
    assert schema_accepts(document, "BackupPolicyCreate", body) == parse.parse_policy(body).ok


def test_a_create_with_every_pair_member_null_is_refused_by_the_schema_as_by_the_api(document):
    inner = {"start_time": "12:00", "status": "ON", "frequency": None, "week_frequency": None}
    body = {"backup_policy_name": "p1", "scheduled_policy": {**inner, "rentention_day": None}}
    assert not parse.parse_policy(body).ok
    assert not schema_accepts(document, "BackupPolicyCreate", body)
    assert schema_accepts(
        document,
        "BackupPolicyCreate",
        {**body, "scheduled_policy": {**inner, "frequency": 2, "rentention_day": 9}},
    )
