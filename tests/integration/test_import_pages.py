"""The import page (issue 17, docs/imports.md): a supervisor chooses a profile and a file,
sees the dry run's counts and problems, confirms, sees the batch and rolls it back; bad
files are an error summary naming the field; another organization's batch is a 404."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.imports import profiles
from caseapp.imports.models import ImportBatch, ImportRecord
from caseapp.referrals.models import Referral
from caseapp.screening.models import Case
from tests.conftest import PASSWORD, csrf_from
from tests.integration.test_concurrency import POSTGRES, World, contend, race  # noqa: F401

SAMPLES = profiles.DEFAULT_DIR / "samples"
NGO_CSV = (SAMPLES / "ngo-spreadsheet.SYNTHETIC.csv").read_bytes()
POLICE_XLSX = (SAMPLES / "police-register.SYNTHETIC.xlsx").read_bytes()
ORG = "PNP-TRATA-MDD"


def upload(
    client: Any, data: bytes | None, profile: str = "ngo-spreadsheet", name: str = "ong.csv"
) -> Any:
    token = csrf_from(client.get("/imports/").get_data(as_text=True))
    form: dict[str, Any] = {"csrf_token": token, "profile": profile}
    if data is not None:
        form["file"] = (io.BytesIO(data), name)
    return client.post("/imports/", data=form, content_type="multipart/form-data")


def batch_of(response: Any) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.search(r"/imports/([0-9a-f-]{36})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def count(html: str, name: str) -> int:
    match = re.search(rf'data-count="{name}">(\d+)<', html)
    assert match, f"no count {name}"
    return int(match.group(1))


def post_form(client: Any, page_url: str, action: str, data: dict[str, str] | None = None) -> Any:
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **(data or {})})


def records_of(batch_uuid: str) -> list[ImportRecord]:
    batch = db.session.scalar(sa.select(ImportBatch).where(ImportBatch.uuid == batch_uuid))
    assert batch is not None
    return list(
        db.session.scalars(sa.select(ImportRecord).where(ImportRecord.batch_id == batch.id))
    )


def status_of(batch_uuid: str) -> str:
    db.session.expire_all()
    return db.session.scalar(sa.select(ImportBatch.status).where(ImportBatch.uuid == batch_uuid))


def summary_items(html: str) -> str:
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return match.group(0)


def ngo_csv(rows: list[str], encoding: str = "utf-8") -> bytes:
    header = NGO_CSV.decode("utf-8").splitlines()[0]
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


GOOD_ROW = (
    "T-1;03/08/2021;Piura;Nayeli;Pérez Vargas;mujer;26;sí;Perú;es;dni;12460710;"
    "Engaño;explotación sexual;Bares y hospedajes;"
)


# -- the whole flow --------------------------------------------------------------------------


def test_a_supervisor_checks_imports_sees_and_rolls_back_a_sample(client: Any, login_as: Any):
    login_as("supervisor", ORG)
    home = client.get("/").get_data(as_text=True)
    assert "/imports/" in home  # the menu entry
    page = client.get("/imports/").get_data(as_text=True)
    for name in ("ngo-spreadsheet", "police-register", "prosecutor-register"):
        assert f'value="{name}"' in page

    # step 1 → 2: the dry run keeps the file, imports nothing, shows the counts
    uuid = batch_of(upload(client, NGO_CSV))
    assert status_of(uuid) == "checked" and records_of(uuid) == []
    dry = client.get(f"/imports/{uuid}").get_data(as_text=True)
    assert (count(dry, "rows"), count(dry, "bad"), count(dry, "new"), count(dry, "existing")) == (
        12,
        0,
        12,
        0,
    )
    assert f'action="/imports/{uuid}/confirm"' in dry

    # step 3: confirm → the batch page with provenance and the imported cases
    done = post_form(client, f"/imports/{uuid}", f"/imports/{uuid}/confirm")
    assert done.status_code == 303
    page = client.get(f"/imports/{uuid}").get_data(as_text=True)
    assert "12 casos nuevos" in page  # the flashed counts of the step
    assert count(page, "new") == 12 and status_of(uuid) == "imported"
    assert "ONG-PLANILLA" in page and "ong.csv" in page and "supervisor" in page
    records = records_of(uuid)
    assert len(records) == 12
    case_ids = [r.case_id for r in records]
    cases = db.session.scalars(sa.select(Case).where(Case.id.in_(case_ids)))
    for case in cases:
        assert f'href="/cases/{case.uuid}"' in page
        assert case.status == "closed"
    # historical records plan no referral
    assert not db.session.scalar(
        sa.select(sa.func.count()).select_from(Referral).where(Referral.case_id.in_(case_ids))
    )
    assert "ONG-0001" in page  # the source record id, for the supervisor to find it

    # the same file again: nothing new
    again = batch_of(upload(client, NGO_CSV))
    second = client.get(f"/imports/{again}").get_data(as_text=True)
    assert (count(second, "new"), count(second, "existing")) == (0, 12)
    assert "no hay nada nuevo que importar" in second

    # the list shows both batches
    listed = client.get("/imports/batches").get_data(as_text=True)
    assert f"/imports/{uuid}" in listed and f"/imports/{again}" in listed

    # rollback: a confirmation page, then the records are gone
    ask = client.get(f"/imports/{uuid}/rollback").get_data(as_text=True)
    assert "¿Deshacer esta importación?" in ask and "12 casos importados" in ask
    rolled = post_form(client, f"/imports/{uuid}/rollback", f"/imports/{uuid}/rollback")
    assert rolled.status_code == 303
    assert status_of(uuid) == "rolled_back" and records_of(uuid) == []
    assert "se eliminaron 12 casos" in client.get(f"/imports/{uuid}").get_data(as_text=True)
    remaining = sa.select(sa.func.count()).select_from(Case).where(Case.id.in_(case_ids))
    assert db.session.scalar(remaining) == 0
    actions = set(
        db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.object_id == uuid))
    )
    assert {"import.check", "import.run", "import.read", "import.rollback"} <= actions


def test_bad_rows_are_listed_downloaded_and_skipped_only_on_request(
    client: Any, login_as: Any
) -> None:
    login_as("supervisor", ORG)
    rows = [
        GOOD_ROW,
        GOOD_ROW.replace("T-1", "T-2").replace("mujer", "marciana"),
        GOOD_ROW.replace("T-1", "T-3").replace("03/08/2021", "03/08/2091"),
        GOOD_ROW.replace("T-1", "T-4"),
    ]
    uuid = batch_of(upload(client, ngo_csv(rows)))
    page = client.get(f"/imports/{uuid}").get_data(as_text=True)
    assert (count(page, "rows"), count(page, "bad"), count(page, "new")) == (4, 2, 2)
    problems = re.search(r'<table class="stacked import-problems">.*?</table>', page, re.S)
    assert problems
    table = problems.group(0)
    assert "marciana" in table and "sexo" in table and ">3<" in table  # line, column, value
    assert "03/08/2091" in table and "fecha_atencion" in table and ">4<" in table
    assert "valor desconocido (lista sexo:" in table and "fecha futura" in table  # Spanish

    report = client.get(f"/imports/{uuid}/problems.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "attachment" in report.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert {(r["line"], r["column"]) for r in lines} == {("3", "sexo"), ("4", "fecha_atencion")}
    assert {r["message"].split(" (")[0] for r in lines} == {"valor desconocido", "fecha futura"}

    # confirming without "skip" is refused, naming the option; nothing is imported
    refused = post_form(client, f"/imports/{uuid}", f"/imports/{uuid}/confirm")
    assert refused.status_code == 422
    summary = summary_items(refused.get_data(as_text=True))
    assert 'href="#skip_bad_rows"' in summary and "2 filas con problemas" in summary
    assert records_of(uuid) == [] and status_of(uuid) == "checked"

    done = post_form(client, f"/imports/{uuid}", f"/imports/{uuid}/confirm", {"skip_bad_rows": "y"})
    assert done.status_code == 303
    assert len(records_of(uuid)) == 2 and status_of(uuid) == "imported"
    kept = client.get(f"/imports/{uuid}").get_data(as_text=True)
    assert "sin las filas con problemas" in kept and "marciana" in kept  # the report stays
    # confirming twice is a clear refusal, not a second import
    twice = post_form(
        client, f"/imports/{uuid}", f"/imports/{uuid}/confirm", {"skip_bad_rows": "y"}
    )
    assert twice.status_code == 409 and "ya no espera confirmación" in twice.get_data(as_text=True)
    assert len(records_of(uuid)) == 2


# -- bad files: an error summary naming the field, never a 500 ---------------------------------


@pytest.mark.parametrize(
    ("profile", "data", "name", "field", "says"),
    [
        ("ngo-spreadsheet", None, "", "file", "Elija el archivo"),
        ("", NGO_CSV, "ong.csv", "profile", "Elija el perfil"),
        ("../../etc/passwd", NGO_CSV, "ong.csv", "profile", "Ese perfil no existe"),
        ("ngo-spreadsheet", b"", "ong.csv", "file", "está vacío"),
        (
            "ngo-spreadsheet",
            ngo_csv([GOOD_ROW], encoding="cp1252"),
            "ong.csv",
            "file",
            "No se puede leer el archivo",
        ),
        (
            "ngo-spreadsheet",
            b"codigo;fecha_atencion;region\nX;01/01/2020;Piura\n",
            "ong.csv",
            "file",
            "Falta la columna «sexo»",
        ),
        ("police-register", NGO_CSV, "ong.csv", "file", "No se puede leer el archivo"),
        ("ngo-spreadsheet", POLICE_XLSX, "reta.xlsx", "file", "No se puede leer el archivo"),
    ],
    ids=[
        "no-file",
        "no-profile",
        "unknown-profile",
        "empty-file",
        "wrong-encoding",
        "missing-columns",
        "csv-for-xlsx-profile",
        "xlsx-for-csv-profile",
    ],
)
def test_a_bad_upload_is_an_error_summary_naming_the_field(
    client: Any, login_as: Any, profile: str, data: bytes | None, name: str, field: str, says: str
) -> None:
    login_as("supervisor", ORG)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch))
    response = upload(client, data, profile=profile, name=name)
    assert response.status_code == 422
    summary = summary_items(response.get_data(as_text=True))
    assert f'href="#{field}"' in summary and says in summary
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == before


def test_wrong_encoding_names_the_likely_one(client: Any, login_as: Any) -> None:
    login_as("supervisor", ORG)
    response = upload(client, ngo_csv([GOOD_ROW], encoding="cp1252"))
    assert "cp1252" in summary_items(response.get_data(as_text=True))


def test_a_file_over_the_limit_is_named_on_the_form(app: Any, client: Any, login_as: Any) -> None:
    login_as("supervisor", ORG)
    token = csrf_from(client.get("/imports/").get_data(as_text=True))
    before = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    try:
        response = client.post(
            "/imports/",
            data={
                "csrf_token": token,
                "profile": "ngo-spreadsheet",
                "file": (io.BytesIO(b"x" * (2 * 1024 * 1024 + 1)), "big.csv"),
            },
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert response.status_code == 413
    summary = summary_items(response.get_data(as_text=True))
    assert 'href="#file"' in summary and "2 MB" in summary


def test_a_file_with_more_rows_than_the_page_takes_is_sent_to_the_cli(
    app: Any, client: Any, login_as: Any
) -> None:
    login_as("supervisor", ORG)
    before = app.config["IMPORT_PAGE_MAX_ROWS"]
    app.config["IMPORT_PAGE_MAX_ROWS"] = 5
    try:
        response = upload(client, NGO_CSV)
    finally:
        app.config["IMPORT_PAGE_MAX_ROWS"] = before
    assert response.status_code == 422
    summary = summary_items(response.get_data(as_text=True))
    assert 'href="#file"' in summary and "12 filas" in summary and "flask import run" in summary


# -- access: roles, organizations, CSRF -------------------------------------------------------


@pytest.mark.parametrize("role", ["screener", "caseworker", "statistician", "admin"])
def test_only_supervisors_import(client: Any, login_as: Any, role: str) -> None:
    login_as(role, ORG)
    assert client.get("/imports/").status_code == 403
    assert client.get("/imports/batches").status_code == 403
    assert "/imports/" not in client.get("/").get_data(as_text=True)


def test_another_organizations_batch_is_not_found(
    app: Any, client: Any, login_as: Any, users: Any
) -> None:
    from tests.conftest import login

    login_as("supervisor", ORG)
    uuid = batch_of(upload(client, NGO_CSV))
    assert post_form(client, f"/imports/{uuid}", f"/imports/{uuid}/confirm").status_code == 303

    other = app.test_client()
    stranger = users.create("supervisor", "PNP-TRATA-CUS")
    assert login(other, stranger["email"]).status_code == 302
    token = csrf_from(other.get("/imports/").get_data(as_text=True))
    assert other.get(f"/imports/{uuid}").status_code == 404
    assert other.get(f"/imports/{uuid}/problems.csv").status_code == 404
    assert other.get(f"/imports/{uuid}/rollback").status_code == 404
    assert other.post(f"/imports/{uuid}/rollback", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/imports/{uuid}/confirm", data={"csrf_token": token}).status_code == 404
    assert uuid not in other.get("/imports/batches").get_data(as_text=True)
    assert status_of(uuid) == "imported" and len(records_of(uuid)) == 12


def test_forms_without_their_csrf_token_are_refused(client: Any, login_as: Any) -> None:
    login_as("supervisor", ORG)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch))
    refused = client.post(
        "/imports/",
        data={"profile": "ngo-spreadsheet", "file": (io.BytesIO(NGO_CSV), "ong.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == before

    uuid = batch_of(upload(client, NGO_CSV))
    assert client.post(f"/imports/{uuid}/confirm").status_code == 400
    assert status_of(uuid) == "checked"
    assert post_form(client, f"/imports/{uuid}", f"/imports/{uuid}/confirm").status_code == 303
    assert client.post(f"/imports/{uuid}/rollback").status_code == 400
    assert status_of(uuid) == "imported"


def test_a_batch_whose_cases_were_worked_on_is_not_rolled_back(client: Any, login_as: Any) -> None:
    login_as("supervisor", ORG)
    uuid = batch_of(upload(client, NGO_CSV))
    post_form(client, f"/imports/{uuid}", f"/imports/{uuid}/confirm")
    record = records_of(uuid)[0]
    case = db.session.get(Case, record.case_id)
    case.status = "open"  # reopened by a caseworker: a real case now
    db.session.commit()
    refused = post_form(client, f"/imports/{uuid}/rollback", f"/imports/{uuid}/rollback")
    assert refused.status_code == 409
    summary = summary_items(refused.get_data(as_text=True))
    assert "1 caso importado ya se trabajó" in summary
    assert status_of(uuid) == "imported" and len(records_of(uuid)) == 12


# -- the worked example of docs/imports.md imports as the guide says ----------------------------


def test_the_worked_example_of_the_guide_imports(app: Any, db_tx: None, tmp_path: Any) -> None:
    import json
    from pathlib import Path

    from openpyxl import Workbook

    doc = (Path(__file__).resolve().parents[2] / "docs" / "imports.md").read_text("utf-8")
    example = doc[doc.index("### Worked example") :]
    toml = re.search(r"```toml\n(.*?)```", example, re.S)
    assert toml
    (tmp_path / "cem-cusco.toml").write_text(toml.group(1), encoding="utf-8")
    table = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in example.splitlines()
        if line.startswith("| ") and "---" not in line
    ][:2]
    book = Workbook()
    sheet = book.active
    sheet.title = "Casos"
    for row in table:
        sheet.append(row)
    book.save(tmp_path / "casos.xlsx")
    before = app.config.get("IMPORT_PROFILES_DIR")
    app.config["IMPORT_PROFILES_DIR"] = str(tmp_path)
    try:
        runner = app.test_cli_runner()
        listed = runner.invoke(args=["import", "profiles"])
        assert "cem-cusco" in listed.output and "INVALID" not in listed.output
        result = runner.invoke(
            args=["import", "run", str(tmp_path / "casos.xlsx"), "--profile", "cem-cusco"]
            + ["--org", "CEM-CUS"]
        )
    finally:
        app.config["IMPORT_PROFILES_DIR"] = before
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["rows"], summary["created"], summary["problems"]) == (1, 1, 0)
    record = db.session.scalar(sa.select(ImportRecord).order_by(ImportRecord.id.desc()))
    case = db.session.get(Case, record.case_id)
    assert record.register == "CEM-CUS" and case.region == "08" and case.status == "closed"


def test_a_cell_that_cannot_be_read_is_one_problem_not_two(client: Any, login_as: Any) -> None:
    """A future date is not also reported as a missing date by the contract."""
    login_as("supervisor", ORG)
    rows = [GOOD_ROW.replace("03/08/2021", "03/08/2091")]
    uuid = batch_of(upload(client, ngo_csv(rows)))
    report = client.get(f"/imports/{uuid}/problems.csv").get_data(as_text=True)
    lines = list(csv.DictReader(io.StringIO(report.lstrip("\ufeff"))))
    assert [(r["line"], r["column"]) for r in lines] == [("2", "fecha_atencion")]


# -- two confirmations of one batch at once (PostgreSQL: real connections, row locks) ---------


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="needs CASEAPP_TEST_DATABASE_URL on PostgreSQL")
def test_two_confirmations_at_once_import_once(race: World) -> None:  # noqa: F811
    from caseapp.accounts import services as accounts
    from caseapp.accounts import two_factor as tf
    from tests.conftest import login, totp_code

    race.n += 1
    email = f"importer{race.n}@race.test"
    with race.app.app_context():
        user = accounts.create_user(
            None, email=email, role="supervisor", org_code=ORG, password=PASSWORD
        )
        secret = tf.start_enrolment(user)
        tf.confirm_enrolment(user, totp_code(secret, -1))
        db.session.commit()
    browser = race.app.test_client()
    with race.app.app_context():
        assert login(browser, email).status_code == 302
    uuid = batch_of(upload(browser, NGO_CSV))
    token = csrf_from(browser.get(f"/imports/{uuid}").get_data(as_text=True))
    cookie = browser.get_cookie("ruta_session")
    assert cookie is not None
    tabs = []
    for _ in range(2):  # two tabs of the same browser press "Importar" together
        tab = race.app.test_client()
        tab.set_cookie("ruta_session", cookie.value)
        tabs.append(tab)
    responses = contend(
        race,
        "SELECT id FROM import_batches WHERE uuid = :u FOR UPDATE",
        {"u": uuid},
        [
            lambda tab=tab: tab.post(f"/imports/{uuid}/confirm", data={"csrf_token": token})
            for tab in tabs
        ],
    )
    assert sorted(r.status_code for r in responses) == [303, 409]
    records = race.scalar(
        sa.select(sa.func.count())
        .select_from(ImportRecord)
        .join(ImportBatch, ImportBatch.id == ImportRecord.batch_id)
        .where(ImportBatch.uuid == uuid)
    )
    assert records == 12


def test_a_check_nobody_confirms_drops_its_file_after_a_day(client: Any, login_as: Any) -> None:
    from datetime import timedelta

    from caseapp.core.db import utcnow

    login_as("supervisor", ORG)
    rows = [GOOD_ROW, GOOD_ROW.replace("T-1", "T-2").replace("mujer", "marciana")]
    old = batch_of(upload(client, ngo_csv(rows)))
    batch = db.session.scalar(sa.select(ImportBatch).where(ImportBatch.uuid == old))
    assert batch.upload is not None and batch.report is not None
    batch.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    fresh = batch_of(upload(client, NGO_CSV))  # the next check drops the stale one
    db.session.expire_all()
    stale = db.session.scalar(sa.select(ImportBatch).where(ImportBatch.uuid == old))
    assert stale.upload is None and stale.report is None and stale.rows_total == 2
    assert db.session.scalar(
        sa.select(ImportBatch.upload).where(ImportBatch.uuid == fresh)
    )  # a fresh check keeps its file
    page = client.get(f"/imports/{old}").get_data(as_text=True)
    assert "se descarta a las 24 horas" in page and "marciana" not in page
    assert f'action="/imports/{old}/confirm"' not in page
    refused = post_form(client, f"/imports/{old}", f"/imports/{old}/confirm")
    assert refused.status_code == 409 and records_of(old) == []


def test_a_hostile_file_stays_inert_and_encrypted(client: Any, login_as: Any) -> None:
    """Markup and formulas in the cells are text on the page and in the CSV download, and
    the kept file is ciphertext in the database."""
    login_as("supervisor", ORG)
    hostile = (
        GOOD_ROW.replace("Nayeli", "<script>alert(1)</script>")
        .replace("T-1", "T-9")
        .replace("mujer", '=HYPERLINK("http://evil.example","x")')
    )
    uuid = batch_of(upload(client, ngo_csv([hostile]), name="<i>lista.csv"))
    page = client.get(f"/imports/{uuid}").get_data(as_text=True)
    assert "<i>lista" not in page and "&lt;i&gt;lista.csv" in page
    assert "<script>alert(1)" not in page
    assert "=HYPERLINK(&#34;http://evil.example&#34;" in page  # shown, escaped
    report = client.get(f"/imports/{uuid}/problems.csv").get_data(as_text=True)
    values = [r["value"] for r in csv.DictReader(io.StringIO(report.lstrip("\ufeff")))]
    assert values and all(not v.startswith(("=", "+", "-", "@")) for v in values)
    raw = db.session.execute(
        sa.text("SELECT upload, report FROM import_batches WHERE uuid = :u"), {"u": uuid}
    ).one()
    for column in raw:
        text = column.decode("latin-1") if isinstance(column, bytes) else str(column)
        assert "HYPERLINK" not in text and "T-9" not in text
