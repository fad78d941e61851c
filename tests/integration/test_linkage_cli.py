"""``flask linkage evaluate`` (labelled CSV in, JSON summary out, nothing stored) and
``flask linkage reencode`` (new index key: new encodings, the same persons)."""

from __future__ import annotations

import csv
import dataclasses
import json
import secrets
from pathlib import Path

import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.facts import encoding, probabilistic
from caseapp.facts.models import LinkageBlock, LinkageModel, LinkageRecord, ScreeningFact
from tests.integration.test_linkage_consistency import partition, persons, screen

HEADER = (
    "record_id,person_id,given_names,family_names,sex,date_of_birth,birth_year,"
    "document_type,document_number"
)
ROWS = [
    "a1,p1,Alessandra,Stanley,F,1976-05-09,,,",
    "a2,p1,Alessadra,Stanley,,1976-05-09,,,",
    "a3,p1,Alessandra,Stanley,F,,1976,,",
    "b1,p2,Rosa Elena,Quispe Mamani,F,1990-03-14,,dni,41234567",
    "b2,p2,Rosa Elena,Quispe Mamany,,1990-03-14,,dni,41234567",
    "c1,p3,María,Quispe,F,2004-03-01,,,",
    "c2,p4,María,Quispe,F,2004-11-19,,,",
    "d1,p5,Juana,Ccori Huamán,F,1976-05-09,,dni,38567695",
    "d2,p5,Juana,Ccori Huaman,F,1976-09-05,,dni,38507695",
]


def write(tmp_path: Path, lines: list[str], name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["linkage", *args])


def test_evaluate_links_labelled_records_and_prints_a_json_summary_last(app, db_tx, tmp_path):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(LinkageRecord))
    out = tmp_path / "clusters.csv"
    result = invoke(app, "evaluate", str(write(tmp_path, ROWS)), "--clusters", str(out))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["records"] == 9 and summary["true_persons"] == 5
    assert summary["persons"] == 5
    assert summary["precision"] == 1.0 and summary["recall"] == 1.0 and summary["f1"] == 1.0
    assert summary["seconds"] >= 0
    assert summary["threshold"] == 10.0  # nine records: the default model, at the floor
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["record_id", "cluster"]
    cluster = dict(rows[1:])
    assert list(cluster) == ["a1", "a2", "a3", "b1", "b2", "c1", "c2", "d1", "d2"]
    assert cluster["a1"] == cluster["a2"] == cluster["a3"]
    assert cluster["c1"] != cluster["c2"]
    # nothing stored
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LinkageRecord)) == before


def test_evaluate_threshold_and_unlabelled_records(app, db_tx, tmp_path):
    strict = invoke(app, "evaluate", str(write(tmp_path, ROWS)), "--threshold", "60")
    assert strict.exit_code == 0, strict.output
    summary = json.loads(strict.stdout.strip().splitlines()[-1])
    assert summary["persons"] > 5 and summary["recall"] < 1.0  # nothing reaches 60 bits
    unlabelled = [",".join([r.split(",")[0], "", *r.split(",")[2:]]) for r in ROWS]
    result = invoke(app, "evaluate", str(write(tmp_path, unlabelled, "u.csv")))
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["records"] == 9 and summary["persons"] == 5
    assert not {"true_persons", "precision", "recall", "f1"} & set(summary)


def test_evaluate_names_the_line_and_column_of_a_bad_row_and_runs_nothing(app, db_tx, tmp_path):
    out = tmp_path / "clusters.csv"
    cases = [
        ("a9,p1,Ana,Soto,F,1976-13-09,,,", 3, "date_of_birth"),
        ("a9,p1,Ana,Soto,X,,,,", 3, "sex"),
        ("a9,p1,Ana,Soto,F,,19x6,,", 3, "birth_year"),
        ("a9,p1,Ana,Soto,F,1976-01-01,1976,,", 3, "birth_year"),
        ("a9,p1,Ana,Soto,F,,,dni,", 3, "document_number"),
        ("a1,p1,Ana,Soto,F,,,,", 3, "record_id"),  # a1 twice
        (",p1,Ana,Soto,F,,,,", 3, "record_id"),
    ]
    for bad, line, column in cases:
        path = write(tmp_path, [ROWS[0], bad, *ROWS[1:]])
        result = invoke(app, "evaluate", str(path), "--clusters", str(out))
        assert result.exit_code == 1, (bad, result.output)
        assert f"line {line}, column {column}" in result.stderr, (bad, result.stderr)
        assert not out.exists()
    header_only = tmp_path / "h.csv"
    header_only.write_text("record_id,given_names\n", encoding="utf-8")
    result = invoke(app, "evaluate", str(header_only))
    assert result.exit_code == 1 and "column person_id" in result.stderr


def test_evaluate_rows_is_the_same_path_in_process():
    rows = probabilistic.parse_rows("\n".join([HEADER, *ROWS]))
    summary, clusters = probabilistic.evaluate_rows(rows)
    assert summary["f1"] == 1.0 and len(clusters) == 9


def test_reencode_under_a_new_index_key_keeps_the_persons(app, db_tx, api):
    police, ngo = api("screener", "PNP-TRATA-MDD"), api("screener", "CEM-MDD")
    screen(police, "Alessandra", "Stanley", dob="1976-05-09")
    screen(ngo, "Alessadra", "Stanley", dob="1976-05-09")
    screen(ngo, "Rosa", "Quispe Mamani", document={"type": "dni", "number": "71234567"})
    before = partition(persons())
    assert len(before) == 2
    old_blocks = set(db.session.scalars(sa.select(LinkageBlock.block)))
    ring = app.extensions["caseapp_keyring"]
    app.extensions["caseapp_keyring"] = dataclasses.replace(ring, index_key=secrets.token_bytes(32))
    try:
        result = invoke(app, "reencode")
        assert result.exit_code == 0, result.output
        new_id = encoding.encoder(app.extensions["caseapp_keyring"].index_key).key_id
        key_ids = set(db.session.scalars(sa.select(LinkageRecord.key_id)))
        assert key_ids == {new_id}
        new_blocks = set(db.session.scalars(sa.select(LinkageBlock.block)))
        assert new_blocks and not new_blocks & old_blocks
        db.session.expire_all()
        assert partition(persons()) == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LinkageModel)) == 1
    finally:
        app.extensions["caseapp_keyring"] = ring
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScreeningFact)) >= 3
