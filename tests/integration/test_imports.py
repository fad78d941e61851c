"""Register import (issue 17): every shipped profile on its sample, bad files, idempotence,
provenance, statistics and rollback, through the `flask import` commands a user runs."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from caseapp.accounts.models import Organization
from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from caseapp.facts.models import LinkageBlock, ScreeningFact
from caseapp.imports import profiles
from caseapp.imports.models import ImportBatch, ImportRecord
from caseapp.referrals.models import Referral
from caseapp.screening.models import Case, Person, Screening
from devtools.import_samples import POLICE_HEADER, police_rows

SAMPLES = profiles.DEFAULT_DIR / "samples"
SHIPPED = [
    ("police-register", "police-register.SYNTHETIC.xlsx", "PNP-TRATA-MDD", "police", 15),
    ("prosecutor-register", "prosecutor-register.SYNTHETIC.xlsx", "UDAVIT-CUS", "prosecutor", 12),
    ("ngo-spreadsheet", "ngo-spreadsheet.SYNTHETIC.csv", "ONG-REF-LIM-W", "ngo", 12),
]


def run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["import", *args])


def summary(result: Any) -> dict[str, Any]:
    return json.loads(result.stdout.strip().splitlines()[-1])


def org(code: str) -> Organization:
    found = db.session.scalar(sa.select(Organization).where(Organization.code == code))
    assert found is not None
    return found


def imported_cases(code: str) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ImportRecord)
            .where(ImportRecord.organization_id == org(code).id)
        )
        or 0
    )


def police_xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "reta.xlsx") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = "Victimas"
    sheet.append(POLICE_HEADER)
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


def good_rows(n: int, seed: int = 3) -> list[list[Any]]:
    return list(police_rows(n, seed=seed))


def report_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


# -- every profile on its sample -------------------------------------------------------------


def test_the_shipped_profiles_load_and_are_listed(app: Any, db_tx: None) -> None:
    result = run(app, "profiles")
    assert result.exit_code == 0, result.output
    for name, *_ in SHIPPED:
        assert name in result.output
        assert "INVALID" not in result.output


@pytest.mark.parametrize(("profile", "sample", "code", "kind", "rows"), SHIPPED)
def test_each_profile_imports_its_sample_once(
    app: Any, db_tx: None, profile: str, sample: str, code: str, kind: str, rows: int
) -> None:
    path = SAMPLES / sample
    dry = run(app, "run", str(path), "--profile", profile, "--org", code, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert summary(dry) | {"batch": None} == {
        "profile": profile,
        "register": profiles.load(profile).register,
        "dry_run": True,
        "rows": rows,
        "bad_rows": 0,
        "problems": 0,
        "created": rows,
        "already_imported": 0,
        "batch": None,
    }
    assert imported_cases(code) == 0  # a dry run saves nothing

    first = run(app, "run", str(path), "--profile", profile, "--org", code)
    assert first.exit_code == 0, first.output
    assert summary(first)["created"] == rows
    batch = db.session.scalar(
        sa.select(ImportBatch).where(ImportBatch.uuid == summary(first)["batch"])
    )
    assert batch is not None and batch.status == "imported" and batch.rows_created == rows

    records = db.session.scalars(
        sa.select(ImportRecord).where(ImportRecord.batch_id == batch.id)
    ).all()
    assert len(records) == rows
    screening_ids = [r.screening_id for r in records]
    # provenance: register, batch, source record id, import time
    assert {r.register for r in records} == {profiles.load(profile).register}
    assert all(r.source_record_id and r.imported_at for r in records)
    # the cases belong to the importing organization, closed, and planned no referral
    cases = db.session.scalars(sa.select(Case).where(Case.id.in_([r.case_id for r in records])))
    assert {(c.organization_id, c.status) for c in cases} == {(org(code).id, "closed")}
    assert not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Referral)
        .where(Referral.case_id.in_([r.case_id for r in records]))
    )
    # each counts in statistics, in the profile's list
    facts = db.session.scalars(
        sa.select(ScreeningFact).where(ScreeningFact.screening_id.in_(screening_ids))
    ).all()
    assert len(facts) == rows and {f.org_kind for f in facts} == {kind}
    assert all(f.identified_at.year < date.today().year + 1 for f in facts)
    audited = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "import.run")
        .order_by(AuditEvent.seq.desc())
    )
    # (audit events are chained at commit: in this rolled-back test it is the last one)
    assert audited is None or audited.object_id == batch.uuid

    again = run(app, "run", str(path), "--profile", profile, "--org", code)
    assert again.exit_code == 0, again.output
    assert summary(again)["created"] == 0
    assert summary(again)["already_imported"] == rows
    assert imported_cases(code) == rows


def test_an_imported_row_is_the_screening_the_api_makes_of_the_same_request(
    app: Any, db_tx: None, tmp_path: Path, api: Any
) -> None:
    row = [
        "RETA-2021-1",
        "14/03/2021",
        "Madre de Dios",
        "Rosa",
        "Quispe Mamani",
        "Femenino",
        16,
        None,
        "Perú",
        "DNI",
        "71234567",
        "Captación;Transporte",
        "Engaño",
        "Explotación sexual",
        "Madre de Dios",
    ]
    path = police_xlsx(tmp_path, [row])
    result = run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    assert result.exit_code == 0, result.output
    record = db.session.scalar(sa.select(ImportRecord).order_by(ImportRecord.id.desc()))
    imported = db.session.get(Screening, record.screening_id)
    body = {
        "identified_at": "2021-03-14T00:00:00-05:00",
        "region": "17",
        "identification_context": "police_operation",
        "person": {
            "given_names": "Rosa",
            "family_names": "Quispe Mamani",
            "sex": "F",
            "age_years": 16,
            "nationality": ["PER"],
            "document": {"type": "dni", "number": "71234567"},
        },
        "acts": ["recruitment", "transport"],
        "means": ["deception"],
        "purposes": ["sexual_exploitation"],
        "context": {"exploitation_region": "17"},
    }
    made = api("screener", "PNP-TRATA-MDD").post("/api/v1/screenings", json=body)
    assert made.status_code == 201, made.json
    screened = db.session.scalar(sa.select(Screening).where(Screening.uuid == made.json["id"]))
    for column in (
        "status",
        "missing_elements",
        "aggravating",
        "exploitation_form",
        "tags",
        "age_group",
        "unodc_category",
        "mp_band",
        "ctdc_band",
        "identified_at",
        "region",
        "acts",
        "means",
        "purposes",
        "context",
        "rule_version",
    ):
        assert getattr(imported, column) == getattr(screened, column), column
    a, b = imported.case.person, screened.case.person
    for column in (
        "given_names",
        "family_names",
        "document_number",
        "document_type",
        "name_index",
        "document_index",
        "sex",
        "nationality",
        "age_years",
    ):
        assert getattr(a, column) == getattr(b, column), column
    # and linkage knows them for one person (same document): one person, two lists
    facts = {
        f.screening_id: f
        for f in db.session.scalars(
            sa.select(ScreeningFact).where(
                ScreeningFact.screening_id.in_([imported.id, screened.id])
            )
        )
    }
    assert facts[imported.id].person_id == facts[screened.id].person_id


def test_imported_registers_are_their_own_lists_in_the_overlap(
    app: Any, db_tx: None, tmp_path: Path, api: Any, exact_counts: Any
) -> None:
    """Twelve persons in the police register, also in the prosecutors' (same DNI): the overlap
    report counts them in the police × prosecutor cell. They are twelve different people
    (different names, documents that differ in more than one digit): probabilistic linkage
    would rightly join near-identical records ("Ccori0"/"Ccori1", 40000000/40000001)."""
    given = ["Ana", "Rosa", "Elena", "Marta", "Julia", "Sonia"]
    family = ["Ccori Inga", "Mamani Huanca", "Quispe Tito", "Condori Apaza", "Huaman Soto"]
    family += ["Yupanqui Rojas", "Flores Cutipa", "Chambi Ticona", "Paucar Limachi"]
    family += ["Sánchez Vela", "Torres Ramos", "Vargas Luque"]

    def dni(i: int) -> str:
        return f"{(i + 1) * 13_579_111 % 89_999_999 + 10_000_000:08d}"

    rows = []
    for i in range(12):
        rows.append(
            [
                f"RETA-2020-{i}",
                "02/02/2020",
                "Cusco",
                given[i % 6],
                family[i],
                "Femenino",
                25,
                None,
                "Perú",
                "DNI",
                dni(i),
                "Captación",
                "Engaño",
                "Explotación laboral",
                "Cusco",
            ]
        )
    police = police_xlsx(tmp_path, rows)
    assert (
        run(
            app, "run", str(police), "--profile", "police-register", "--org", "PNP-TRATA-CUS"
        ).exit_code
        == 0
    )
    book = Workbook()
    sheet = book.active
    sheet.append(["título"])
    sheet.append(
        [
            "ID agraviado",
            "Fecha de denuncia",
            "Distrito fiscal (departamento)",
            "Nombres del agraviado",
            "Apellidos del agraviado",
            "Sexo",
            "Fecha de nacimiento",
            "Edad",
            "País de nacionalidad",
            "DNI",
            "Conducta típica",
            "Medios",
            "Fin de explotación",
        ]
    )
    for i in range(12):
        sheet.append(
            [
                f"S-{i}",
                "2020-03-01",
                "Cusco",
                given[i % 6],
                family[i],
                "F",
                None,
                25,
                "Perú",
                dni(i),
                "Captación",
                "Engaño",
                "Explotación laboral",
            ]
        )
    prosecutor = tmp_path / "sistra.xlsx"
    book.save(prosecutor)
    result = run(
        app, "run", str(prosecutor), "--profile", "prosecutor-register", "--org", "UDAVIT-CUS"
    )
    assert result.exit_code == 0, result.output
    overlap = api("statistician").get("/api/v1/reports/overlap?from=2020-01-01&to=2020-12-31")
    assert overlap.status_code == 200, overlap.json
    cells = {tuple(sorted(c["combination"])): c["persons"] for c in overlap.json["cells"]}
    assert cells[("police", "prosecutor")] == 12


# -- bad files ---------------------------------------------------------------------------------


def test_a_csv_in_the_wrong_encoding_is_named_and_nothing_is_imported(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    text = (SAMPLES / "ngo-spreadsheet.SYNTHETIC.csv").read_text(encoding="utf-8")
    path = tmp_path / "ong-windows.csv"
    path.write_bytes(text.encode("cp1252"))
    result = run(
        app,
        "run",
        str(path),
        "--profile",
        "ngo-spreadsheet",
        "--org",
        "ONG-REF-LIM-W",
        "--report",
        str(tmp_path / "errors.csv"),
    )
    assert result.exit_code == 1
    assert "not utf-8" in result.output and "cp1252" in result.output
    problems = report_rows(tmp_path / "errors.csv")
    assert len(problems) == 1 and "cp1252" in problems[0]["message"]
    assert imported_cases("ONG-REF-LIM-W") == 0


def test_missing_columns_are_all_named(app: Any, db_tx: None, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Victimas"
    header = [h for h in POLICE_HEADER if h not in ("Sexo", "Finalidad")]
    sheet.append(header)
    path = tmp_path / "short.xlsx"
    book.save(path)
    result = run(
        app,
        "run",
        str(path),
        "--profile",
        "police-register",
        "--org",
        "PNP-TRATA-MDD",
        "--dry-run",
        "--report",
        str(tmp_path / "e.csv"),
    )
    assert result.exit_code == 0  # a dry run reports; it does not fail
    problems = report_rows(tmp_path / "e.csv")
    assert {(p["column"], p["message"]) for p in problems} == {
        ("Sexo", "column missing from the file"),
        ("Finalidad", "column missing from the file"),
    }


def test_unknown_codes_future_dates_and_duplicate_ids_name_line_column_and_value(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    rows = good_rows(6)
    rows[1][13] = "Explotación minera ilegal"  # line 3: unknown purpose
    future = date.today() + timedelta(days=10)
    rows[2][1] = future.strftime("%d/%m/%Y")  # line 4: identified in the future
    rows[3][7], rows[3][6] = date.today() + timedelta(days=400), None  # line 5: born later
    rows[4][0] = rows[0][0]  # line 6: the id of line 2 again
    rows[5][2] = "Atlántida"  # line 7: unknown region
    path = police_xlsx(tmp_path, rows)
    report = tmp_path / "errors.csv"
    result = run(
        app,
        "run",
        str(path),
        "--profile",
        "police-register",
        "--org",
        "PNP-TRATA-MDD",
        "--report",
        str(report),
    )
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert imported_cases("PNP-TRATA-MDD") == 0
    problems = {(p["line"], p["column"]): p for p in report_rows(report)}
    assert problems[("3", "Finalidad")]["value"] == "Explotación minera ilegal"
    assert problems[("3", "Finalidad")]["message"].startswith("unknown value")
    assert problems[("4", "Fecha de registro")]["message"].startswith("date in the future")
    assert problems[("5", "Fecha de nacimiento")]["message"].startswith("date in the future")
    assert problems[("6", "N° Registro")]["message"] == (
        "source record id repeats line 2 (lines 2 and 6)"
    )
    assert problems[("7", "Departamento")]["value"] == "Atlántida"
    assert summary(result)["bad_rows"] == 5


def test_contract_errors_point_at_the_source_column(app: Any, db_tx: None, tmp_path: Path) -> None:
    """The screening contract itself refuses the row (age 130): reported at its column."""
    rows = good_rows(1)
    rows[0][6], rows[0][7] = 130, None
    rows[0][3] = "x" * 300  # longer than a name may be
    path = police_xlsx(tmp_path, rows)
    report = tmp_path / "e.csv"
    run(
        app,
        "run",
        str(path),
        "--profile",
        "police-register",
        "--org",
        "PNP-TRATA-MDD",
        "--dry-run",
        "--report",
        str(report),
    )
    found = {(p["line"], p["column"], p["value"][:5]) for p in report_rows(report)}
    assert ("2", "Edad", "130") in found
    assert ("2", "Nombres", "xxxxx") in found


def test_one_percent_bad_rows_every_one_named_then_skipped_on_request(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    rows = list(police_rows(400, seed=11, bad=0.01))
    path = police_xlsx(tmp_path, rows)
    expected_bad = {
        i + 2
        for i, r in enumerate(rows)
        if r[13] == "Explotación minera ilegal"
        or r[0] is None
        or r[6] == "veintidós"
        or (isinstance(r[1], date) and r[1] > date.today())
    }
    assert 1 <= len(expected_bad) <= 12
    report = tmp_path / "e.csv"
    refused = run(
        app,
        "run",
        str(path),
        "--profile",
        "police-register",
        "--org",
        "PNP-TRATA-MDD",
        "--report",
        str(report),
    )
    assert refused.exit_code == 1
    assert {int(p["line"]) for p in report_rows(report)} == expected_bad
    assert imported_cases("PNP-TRATA-MDD") == 0

    kept = run(
        app,
        "run",
        str(path),
        "--profile",
        "police-register",
        "--org",
        "PNP-TRATA-MDD",
        "--skip-bad-rows",
    )
    assert kept.exit_code == 0, kept.output
    assert summary(kept)["created"] == 400 - len(expected_bad)
    batch = db.session.scalar(
        sa.select(ImportBatch).where(ImportBatch.uuid == summary(kept)["batch"])
    )
    assert batch.rows_bad == len(expected_bad)
    kept_report = list(csv.DictReader(io.StringIO(batch.report)))
    assert {int(p["line"]) for p in kept_report} == expected_bad


def test_a_file_that_is_not_a_workbook(app: Any, db_tx: None, tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("Nombres;Apellidos\nRosa;Quispe\n", encoding="utf-8")
    result = run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    assert result.exit_code == 1 and "not an XLSX workbook" in result.output


def test_unknown_profile_and_organization_are_clear_errors(app: Any, db_tx: None) -> None:
    sample = str(SAMPLES / "ngo-spreadsheet.SYNTHETIC.csv")
    nope = run(app, "run", sample, "--profile", "../etc/passwd", "--org", "ONG-REF-LIM-W")
    assert nope.exit_code == 1 and "no profile named" in nope.output
    nobody = run(app, "run", sample, "--profile", "ngo-spreadsheet", "--org", "NOPE")
    assert nobody.exit_code == 1 and "no organization" in nobody.output


# -- batches and rollback ------------------------------------------------------------------------


def test_batches_are_listed_shown_and_rolled_back(app: Any, db_tx: None, tmp_path: Path) -> None:
    path = police_xlsx(tmp_path, good_rows(20))
    first = run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    batch_id = summary(first)["batch"]
    listed = run(app, "batches", "--org", "PNP-TRATA-MDD")
    assert batch_id in listed.output and "imported" in listed.output
    shown = json.loads(run(app, "show", batch_id).output)
    assert shown["created"] == 20 and shown["list"] == "police"
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ScreeningFact))
    blocks = sa.select(sa.func.count()).select_from(LinkageBlock)
    blocks_before = db.session.scalar(blocks)
    assert blocks_before >= 20
    # the blocks carry no foreign key (a derived index): the rollback deletes them itself
    orphans = blocks.where(LinkageBlock.screening_id.not_in(sa.select(ScreeningFact.screening_id)))

    rolled = run(app, "rollback", batch_id)
    assert rolled.exit_code == 0, rolled.output
    assert imported_cases("PNP-TRATA-MDD") == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScreeningFact)) == before - 20
    assert db.session.scalar(orphans) == 0
    assert db.session.scalar(blocks) < blocks_before
    batch = db.session.scalar(sa.select(ImportBatch).where(ImportBatch.uuid == batch_id))
    assert batch.status == "rolled_back" and batch.rolled_back_at is not None
    again = run(app, "rollback", batch_id)
    assert again.exit_code == 1 and "Only an imported batch" in again.output
    # rolled back, the same file imports again
    second = run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    assert summary(second)["created"] == 20


def test_a_batch_whose_cases_were_worked_on_is_not_rolled_back(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    path = police_xlsx(tmp_path, good_rows(3))
    batch_id = summary(
        run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    )["batch"]
    record = db.session.scalar(sa.select(ImportRecord).order_by(ImportRecord.id.desc()))
    case = db.session.get(Case, record.case_id)
    case.status = "open"  # reopened by a caseworker: a real case now
    db.session.commit()
    refused = run(app, "rollback", batch_id)
    assert refused.exit_code == 1 and "worked on" in refused.output
    assert imported_cases("PNP-TRATA-MDD") == 3


def test_an_organization_imports_only_into_itself_and_ids_are_per_organization(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    path = police_xlsx(tmp_path, good_rows(4))
    a = run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    b = run(app, "run", str(path), "--profile", "police-register", "--org", "PNP-TRATA-CUS")
    assert summary(a)["created"] == 4 and summary(b)["created"] == 4
    persons = db.session.scalars(
        sa.select(Person.case_id).join(ImportRecord, ImportRecord.case_id == Person.case_id)
    ).all()
    assert len(persons) == 8


def test_the_cli_progress_bar_and_report_for_a_json_file(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    """A JSON register read by the built-in JSON reader through a profile of its own."""
    directory = tmp_path / "profiles"
    directory.mkdir()
    (directory / "json-register.toml").write_text(
        'title = "JSON"\nformat = "json"\nregister = "J"\nlist = "mimp"\nsource_id = "id"\n'
        '[defaults]\nacts = []\n[columns]\n"fecha" = "identified_at"\n'
        '"region" = { field = "region", map = "@region" }\n"sexo" = "person.sex"\n',
        encoding="utf-8",
    )
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps(
            [
                {"id": "1", "fecha": "2022-01-05", "region": "Puno", "sexo": "F"},
                {"id": "2", "fecha": "2022-01-06", "region": "Puno", "sexo": "Q"},
            ]
        ),
        encoding="utf-8",
    )
    app.config["IMPORT_PROFILES_DIR"] = str(directory)
    try:
        result = run(
            app,
            "run",
            str(path),
            "--profile",
            "json-register",
            "--org",
            "UPE-PUN",
            "--skip-bad-rows",
        )
    finally:
        app.config.pop("IMPORT_PROFILES_DIR")
    assert result.exit_code == 0, result.output
    assert summary(result)["created"] == 1
    assert "line 2, column 'sexo', value 'Q'" in result.output


def test_the_sample_workbooks_say_they_are_synthetic() -> None:
    book = load_workbook(SAMPLES / "police-register.SYNTHETIC.xlsx", read_only=True)
    assert "SINTÉTICOS" in str(next(book["LEAME"].iter_rows(values_only=True))[0])
    assert (SAMPLES / "README.md").read_text(encoding="utf-8").count("synthetic") >= 1
