"""B4 — case lists of an organization with ``target`` (100,000) cases.

Data: the organization with the most synthetic cases is topped up to exactly ``target``
by cloning cases (with their person and screenings, ciphertext included: the associated
data of an encrypted column is its column name) of other organizations, in SQL, cycling
over them when there are fewer. At 1,000,000 persons the largest organization
(PNP-TRATA-LIM) already has about 97,000 cases of its own.

Measured server-side through the WSGI app (Flask test client, production config, the
same app gunicorn serves): routing, guard, authentication, the service, SQL, the audit
event, serialization or template rendering; not the network or gunicorn.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from benchmarks.stats import latency_summary

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_COPY_EXCLUDED = {"id", "uuid", "case_id", "organization_id", "created_by_id"}


def largest_org() -> tuple[int, str, int]:
    """(id, code, cases) of the organization with the most cases."""
    from caseapp.accounts.models import Organization
    from caseapp.extensions import db
    from caseapp.screening.models import Case

    row = db.session.execute(
        sa.select(Organization.id, Organization.code, sa.func.count(Case.id))
        .join(Case, Case.organization_id == Organization.id)
        .group_by(Organization.id, Organization.code)
        .order_by(sa.func.count(Case.id).desc(), Organization.id)
        .limit(1)
    ).first()
    if row is None:
        raise RuntimeError("no cases: generate data first")
    return int(row[0]), str(row[1]), int(row[2])


def top_up(org: int, target: int) -> int:
    """Clone other organizations' cases into ``org`` until it has ``target``; returns the
    number added. Runs in the current transaction (the caller commits)."""
    from caseapp.extensions import db
    from caseapp.screening.models import Case, Person, Screening

    conn = db.session.connection()
    have = conn.execute(sa.select(sa.func.count()).where(Case.organization_id == org)).scalar()
    need = target - int(have or 0)
    if need <= 0:
        return 0
    sources = (
        conn.execute(sa.select(sa.func.count()).where(Case.organization_id != org)).scalar() or 0
    )
    if not sources:
        raise RuntimeError("no cases of other organizations to clone")
    conn.exec_driver_sql("DROP TABLE IF EXISTS b4_map")
    conn.execute(
        sa.text(
            """
        CREATE TEMP TABLE b4_map AS
        SELECT nextval(pg_get_serial_sequence('cases', 'id')) AS new_id, s.id AS src_id
        FROM generate_series(1, :need) AS g(n)
        JOIN (SELECT id, row_number() OVER (ORDER BY id) AS rn
              FROM cases WHERE organization_id <> :org) s
          ON s.rn = ((g.n - 1) % :sources) + 1
        """
        ),
        {"need": need, "org": org, "sources": sources},
    )

    def cols(table: sa.Table) -> list[str]:
        return [c.name for c in table.columns if c.name not in _COPY_EXCLUDED]

    case_cols = cols(Case.__table__)
    conn.exec_driver_sql(
        f"INSERT INTO cases (id, uuid, organization_id, {', '.join(case_cols)}) "
        f"SELECT m.new_id, gen_random_uuid()::text, {int(org)}, "
        f"{', '.join('c.' + c for c in case_cols)} "
        "FROM b4_map m JOIN cases c ON c.id = m.src_id"
    )
    person_cols = cols(Person.__table__)
    conn.exec_driver_sql(
        f"INSERT INTO persons (case_id, {', '.join(person_cols)}) "
        f"SELECT m.new_id, {', '.join('p.' + c for c in person_cols)} "
        "FROM b4_map m JOIN persons p ON p.case_id = m.src_id"
    )
    screening_cols = cols(Screening.__table__)
    conn.exec_driver_sql(
        f"INSERT INTO screenings (uuid, case_id, organization_id, "
        f"{', '.join(screening_cols)}) "
        f"SELECT gen_random_uuid()::text, m.new_id, {int(org)}, "
        f"{', '.join('s.' + c for c in screening_cols)} "
        "FROM b4_map m JOIN screenings s ON s.case_id = m.src_id"
    )
    conn.exec_driver_sql("DROP TABLE b4_map")
    return need


@dataclass
class Endpoint:
    key: str
    what: str
    latencies_ms: list[float]

    @property
    def summary(self) -> dict[str, float]:
        return latency_summary(self.latencies_ms)


def sample_document(org: int) -> str:
    """A document number (plaintext, decrypted here) of a case of ``org``."""
    from caseapp.extensions import db
    from caseapp.screening.models import Case, Person

    number = db.session.scalar(
        sa.select(Person.document_number)
        .join(Case, Case.id == Person.case_id)
        .where(Case.organization_id == org, Person.document_index.is_not(None))
        .order_by(Case.id.desc())
        .limit(1)
    )
    if not number:
        raise RuntimeError("no case with a document in the organization")
    return str(number)


def regions(org: int) -> tuple[str, str]:
    """The organization's most common region and its least common one (a filter that
    matches few of its cases)."""
    from caseapp.extensions import db
    from caseapp.screening.models import Case

    rows = db.session.execute(
        sa.select(Case.region, sa.func.count())
        .where(Case.organization_id == org)
        .group_by(Case.region)
        .order_by(sa.func.count().desc(), Case.region)
    ).all()
    return str(rows[0][0]), str(rows[-1][0])


def sign_in(client: Any, email: str, password: str) -> None:
    base = "https://localhost"
    page = client.get("/login", base_url=base)
    match = _CSRF.search(page.get_data(as_text=True))
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    # HTTPS: Flask-WTF also checks that the Referer is this site
    response = client.post(
        "/login",
        base_url=base,
        headers={"Referer": f"{base}/login"},
        data={
            "csrf_token": match.group(1),
            "email": email,
            "password": password,
        },
    )
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code}")


def measure(
    app: Any,
    token: str,
    email: str,
    password: str,
    document: str,
    region_codes: tuple[str, str],
    *,
    requests: int,
    log: Callable[[str], None],
) -> list[Endpoint]:
    api = app.test_client()
    web = app.test_client()
    sign_in(web, email, password)
    bearer = {"Authorization": f"Bearer {token}"}
    base = "https://localhost"
    main, rare = region_codes
    targets: list[tuple[str, str, Callable[[], Any]]] = [
        (
            "api_first",
            "GET /api/v1/cases (first page)",
            lambda: api.get("/api/v1/cases", headers=bearer, base_url=base),
        ),
        (
            "api_filtered",
            f"GET /api/v1/cases?status=open&determination=indicated&region="
            f"{main} (its main region: most cases)",
            lambda: api.get(
                f"/api/v1/cases?status=open&determination=indicated&region={main}",
                headers=bearer,
                base_url=base,
            ),
        ),
        (
            "api_filtered_few",
            f"GET /api/v1/cases?status=open&determination=indicated&region={rare} (few cases)",
            lambda: api.get(
                f"/api/v1/cases?status=open&determination=indicated&region={rare}",
                headers=bearer,
                base_url=base,
            ),
        ),
        (
            "api_search",
            "GET /api/v1/cases?q=<document> (blind index)",
            lambda: api.get(
                "/api/v1/cases", query_string={"q": document}, headers=bearer, base_url=base
            ),
        ),
        (
            "web_cases",
            "GET /cases page (screener session)",
            lambda: web.get("/cases", base_url=base),
        ),
    ]
    out = []
    for key, what, call in targets:
        first = call()
        if first.status_code != 200:
            raise RuntimeError(f"{what}: {first.status_code} {first.get_data(as_text=True)[:300]}")
        if key == "api_search" and not first.get_json()["items"]:
            raise RuntimeError("the document search found nothing")
        for _ in range(2):
            call()
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{what}: {response.status_code}")
        out.append(Endpoint(key, what, times))
        s = out[-1].summary
        log(f"  {what}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms")
    return out
