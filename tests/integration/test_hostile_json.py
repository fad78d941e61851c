"""Hostile bodies and redirects that were 500s although api.md §3 promises none (issue 13,
finding 8): a ``next`` with CR/LF on the language switch, JSON nested a thousand levels
deep (RecursionError in the decoder) and unpaired UTF-16 surrogates (``"\\ud800"``), which
no UTF-8 text can hold and which crashed the driver on INSERT.

The fix is central (``web/json_safety.py`` parses every JSON body with bounded depth and
refuses lone surrogates; ``web/safety.py:safe_next`` refuses control characters), so the
sweep below sends every hostile shape to EVERY JSON endpoint of ``/api/v1`` (POST, PUT,
PATCH, from the app's URL map) as a signed-in supervisor, plus a Hypothesis search over
random JSON trees with surrogates in keys and values at random depths.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseapp.extensions import db
from caseapp.screening.models import Case
from tests.conftest import csrf_from
from tests.integration.test_screening_api import ROSA

DEEP = 5_000  # far past the decoder's recursion limit
BODY_METHODS = ("POST", "PUT", "PATCH")


def deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


#: raw JSON text (the JSON escapes are what a hostile client sends)
NESTED = {
    "array at the top": deep_array(DEEP),
    "object at the top": deep_object(DEEP),
    "array in a field": '{"notes": ' + deep_array(DEEP) + "}",
    "object in a list": '{"acts": [' + deep_object(DEEP) + "]}",
    "parses but absurd (200)": '{"person": ' + deep_object(200) + "}",
}
#: raw JSON text and the field the 422 must name (escaped: no surrogate in the answer)
SURROGATES: dict[str, tuple[str | bytes, str]] = {
    "value at the top": ('{"notes": "\\ud800"}', "notes"),
    "key at the top": ('{"\\ud800": "x"}', "\\ud800"),
    "value nested": ('{"person": {"given_names": "Ana\\udfff"}}', "person.given_names"),
    "key nested": ('{"person": {"given\\udbff_names": "Ana"}}', "person.given\\udbff_names"),
    "in a list": ('{"acts": ["recruitment", "\\udc00"]}', "acts[1]"),
    "deep in lists and objects": (
        '{"context": {"x": [[{"y": ["\\ud83d"]}]]}}',
        "context.x[0][0].y[0]",
    ),
    "low before high": ('{"notes": "\\ude00\\ud83d"}', "notes"),
    "raw UTF-8 bytes of a surrogate": (b'{"notes": "\xed\xa0\x80"}', "notes"),
}


def api_json_rules(app: Any) -> list[tuple[str, str, str]]:
    """(method, rule, endpoint) of every /api/v1 route that takes a body."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        for method in sorted(set(rule.methods or ()) & set(BODY_METHODS)):
            out.append((method, rule.rule, rule.endpoint))
    return sorted(out)


@pytest.fixture
def sweep(app: Any, api: Any) -> dict[str, Any]:
    """A supervisor's token and real ids for every path parameter, so a view would get
    past its 404 if the hostile body reached it."""
    supervisor = api("supervisor")
    created = supervisor.post("/api/v1/screenings", json=ROSA)
    assert created.status_code == 201, created.json
    doc = created.json
    ids = {
        "case_id": doc["case_id"],
        "screening_id": doc["id"],
        "referral_id": doc["referrals"][0]["id"],
        "admission_id": str(uuid.uuid4()),
    }
    targets = []
    for method, rule, endpoint in api_json_rules(app):
        path = rule
        for name, value in ids.items():
            path = path.replace(f"<{name}>", value)
        assert "<" not in path, f"no id for {rule}: add it to the sweep fixture"
        targets.append((method, path, endpoint))
    assert len(targets) >= 10, targets  # the URL map really was read
    return {"client": supervisor, "targets": targets}


def send(supervisor: Any, method: str, path: str, body: str | bytes) -> Any:
    return supervisor.client.open(
        path,
        method=method,
        data=body,
        headers={"Authorization": f"Bearer {supervisor.token}", "Content-Type": "application/json"},
    )


def assert_clean_refusal(response: Any, where: str, statuses: tuple[int, ...]) -> dict[str, Any]:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    assert response.status_code in statuses, (
        f"{where}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    )
    body = json.loads(response.get_data())
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body
    return dict(body["error"])


# -- the three 500s of the finding ---------------------------------------------------------
def test_language_switch_with_crlf_in_next_redirects_home_without_injecting_a_header(
    client: Any,
) -> None:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for target in ("/x\r\nX-Injected: 1", "/x\nX-Injected: 1", "/x\rY", "/a\tb", "/a\x7fb"):
        response = client.post("/lang", data={"lang": "en", "next": target, "csrf_token": token})
        assert response.status_code == 302, (target, response.status_code)
        assert response.headers["Location"] == "/", target
        assert "X-Injected" not in response.headers
    # an ordinary same-site path is still followed
    response = client.post(
        "/lang", data={"lang": "es", "next": "/casos?page=2", "csrf_token": token}
    )
    assert response.headers["Location"] == "/casos?page=2"


def test_safe_next_refuses_every_control_character(app: Any) -> None:
    from caseapp.core.security import safe_next

    with app.test_request_context("/"):
        home = safe_next(None)
        for code in [*range(0x20), 0x7F]:
            assert safe_next(f"/casos{chr(code)}x") == home, hex(code)
        assert safe_next("/casos/ñandú?q=a b") == "/casos/ñandú?q=a b"


@pytest.mark.parametrize("name", sorted(NESTED))
def test_deeply_nested_json_is_400_not_a_500(api: Any, name: str) -> None:
    supervisor = api("supervisor")
    response = send(supervisor, "POST", "/api/v1/screenings", NESTED[name])
    error = assert_clean_refusal(response, name, (400,))
    assert error["code"] == "malformed_json"
    assert "nested" in error["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notes", "\ud800"),
        ("person.given_names", "Rosa \udfff"),
        ("person.document.number", "\udbff71234567"),
    ],
)
def test_a_lone_surrogate_in_a_valid_screening_is_422_naming_the_field_and_saves_nothing(
    api: Any, field: str, value: str
) -> None:
    supervisor = api("supervisor")
    body = copy.deepcopy(ROSA)
    *parents, leaf = field.split(".")
    node = body
    for part in parents:
        node = node[part]
    node[leaf] = value
    before = db.session.scalar(sa.select(sa.func.count(Case.id)))
    response = send(supervisor, "POST", "/api/v1/screenings", json.dumps(body))
    error = assert_clean_refusal(response, field, (422,))
    assert error["code"] == "validation_failed"
    assert list(error["fields"]) == [field], error
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == before


def test_a_surrogate_in_a_key_is_named_escaped(api: Any) -> None:
    supervisor = api("supervisor")
    response = send(supervisor, "POST", "/api/v1/screenings", SURROGATES["key nested"][0])
    error = assert_clean_refusal(response, "key", (422,))
    assert list(error["fields"]) == ["person.given\\udbff_names"], error
    # the answer itself is valid UTF-8 text with no surrogate in it
    response.get_data().decode("utf-8")
    assert "\\udbff" in json.loads(response.get_data())["error"]["message"]


def test_paired_surrogates_and_other_unicode_are_accepted(api: Any) -> None:
    supervisor = api("supervisor")
    body = copy.deepcopy(ROSA)
    body["notes"] = "Dijo 😀 y “gracias” — ñ, 中文, \u202e"
    text = json.dumps(body)  # ensure_ascii: the emoji travels as the pair \ud83d\ude00
    assert "\\ud83d\\ude00" in text
    response = send(supervisor, "POST", "/api/v1/screenings", text)
    assert response.status_code == 201, response.get_data(as_text=True)


# -- every JSON endpoint --------------------------------------------------------------------
def test_every_json_endpoint_refuses_deep_nesting_with_a_400(sweep: dict[str, Any]) -> None:
    seen: dict[int, int] = {}
    for method, path, endpoint in sweep["targets"]:
        for name, body in NESTED.items():
            response = send(sweep["client"], method, path, body)
            where = f"{method} {path} ({endpoint}) with nesting {name}"
            # 403: an endpoint the supervisor's role may not use refuses before the body
            error = assert_clean_refusal(response, where, (400, 403))
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code == 400:
                assert error["code"] == "malformed_json", where
    assert seen.get(400, 0) > seen.get(403, 0), seen  # the body check really ran


def test_every_json_endpoint_refuses_lone_surrogates_with_a_422_naming_the_field(
    sweep: dict[str, Any],
) -> None:
    seen: dict[int, int] = {}
    for method, path, endpoint in sweep["targets"]:
        for name, (body, field) in SURROGATES.items():
            response = send(sweep["client"], method, path, body)
            where = f"{method} {path} ({endpoint}) with a surrogate {name}"
            error = assert_clean_refusal(response, where, (422, 403))
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            if response.status_code == 422:
                # refused for the surrogate itself, before any other validation
                assert list(error["fields"]) == [field], (where, error)
    assert seen.get(422, 0) > seen.get(403, 0), seen


SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)
PLAIN = st.text(max_size=6)
HOSTILE_TEXT = st.builds(lambda a, s, b: a + s + b, PLAIN, SURROGATE, PLAIN)
KEYS = st.one_of(PLAIN, HOSTILE_TEXT)
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), PLAIN, HOSTILE_TEXT)
TREES = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=12,
)


def has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    return False


def test_random_json_with_surrogates_and_deep_nesting_is_never_a_5xx(
    sweep: dict[str, Any],
) -> None:
    """Random trees, a surrogate somewhere (key or value, any depth), wrapped in 0 to
    3,000 levels of lists or objects, sent to a random JSON endpoint."""

    @settings(
        max_examples=120,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        tree=TREES.filter(has_surrogate),
        depth=st.one_of(st.integers(0, 5), st.integers(60, 3_000)),
        as_object=st.booleans(),
        target=st.sampled_from(sweep["targets"]),
    )
    def check(tree: Any, depth: int, as_object: bool, target: tuple[str, str, str]) -> None:
        text = json.dumps(tree)
        for _ in range(depth):  # as text: json.dumps itself recurses
            text = f'{{"k": {text}}}' if as_object else f"[{text}]"
        if not as_object or not text.startswith("{"):
            text = '{"notes": ' + text + "}"
        method, path, endpoint = target
        response = send(sweep["client"], method, path, text)
        assert_clean_refusal(response, f"{method} {path} depth {depth}", (400, 403, 422))

    check()


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


TRICKY_TEXT = st.text(alphabet='[]{}"\\ ,:ab\u00f1\U0001f600', max_size=8)
ANY_JSON = st.recursive(
    st.one_of(st.none(), st.integers(), TRICKY_TEXT),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(TRICKY_TEXT, children, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(value=ANY_JSON, ascii_only=st.booleans(), indent=st.sampled_from([None, 1]))
def test_nesting_measured_on_the_text_is_the_parsed_depth(
    value: Any, ascii_only: bool, indent: int | None
) -> None:
    """The depth bound reads the raw text (fast on 5 MB); brackets, quotes and
    backslashes inside strings must not fool it."""
    from caseapp.web.json_safety import nested_deeper_than

    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    depth = depth_of(value)
    assert not nested_deeper_than(text, depth)
    if depth:
        assert nested_deeper_than(text, depth - 1)
