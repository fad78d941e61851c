"""Imported persons are linked in bulk (issue 17, ADR 0027): a batch into a register whose
model is current is linked incrementally (``facts.link_batch``), with the result a full
relink with that model gives, and the model is re-estimated only when it is due."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.facts import services as facts
from caseapp.facts.models import LinkageModel, ScreeningFact
from tests.integration.test_imports import good_rows, police_xlsx, run, summary


def partition() -> set[frozenset[int]]:
    groups: dict[int, set[int]] = {}
    for sid, pid in db.session.execute(
        sa.select(ScreeningFact.screening_id, ScreeningFact.person_id)
    ):
        groups.setdefault(pid, set()).add(sid)
    return {frozenset(g) for g in groups.values()}


def again_with_typos(rows: list[list[Any]], prefix: str) -> list[list[Any]]:
    """The same people as another register writes them: its own ids, every third family
    name misspelt, every second document left out."""
    out = []
    for k, row in enumerate(rows):
        row = list(row)
        row[0] = f"{prefix}-{k}"
        if k % 3 == 0:
            family = str(row[4])
            row[4] = family[:2] + family[3:]  # one letter dropped
        if k % 2 == 0:
            row[9], row[10] = None, None
        out.append(row)
    return out


def test_refit_due_when_no_model_a_default_model_with_enough_records_or_twice_the_records() -> None:
    assert facts.refit_due(None, False, 10)
    assert not facts.refit_due(40, False, 999)
    assert facts.refit_due(40, False, 1000)
    assert not facts.refit_due(50_000, True, 99_999)
    assert facts.refit_due(50_000, True, 100_000)


def test_a_second_register_is_linked_incrementally_as_a_full_relink_links_it(
    app: Any, db_tx: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = good_rows(60, seed=11)
    first = police_xlsx(tmp_path, rows, "first.xlsx")
    result = run(app, "run", str(first), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    assert result.exit_code == 0, result.output
    model_id = db.session.scalar(sa.select(sa.func.max(LinkageModel.id)))
    assert model_id is not None  # the first batch estimated (here: defaulted) the model

    full_relinks: list[int] = []
    original = facts.relink_all
    monkeypatch.setattr(facts, "relink_all", lambda: full_relinks.append(1) or original())
    second = police_xlsx(tmp_path, again_with_typos(rows, "B"), "second.xlsx")
    result = run(app, "run", str(second), "--profile", "police-register", "--org", "PNP-TRATA-CUS")
    assert result.exit_code == 0, result.output
    assert summary(result)["created"] == 60
    assert full_relinks == []  # linked with the stored model, not re-estimated
    assert db.session.scalar(sa.select(sa.func.max(LinkageModel.id))) == model_id
    incremental = partition()
    # most of the second register's people are found in the first
    assert len(incremental) < 120 - 40

    facts.relink_all()  # the reference: every person recomputed (same default model)
    db.session.expire_all()
    assert partition() == incremental


def test_a_batch_links_to_persons_whole_and_keeps_their_dates_apart(
    app: Any, db_tx: None, tmp_path: Path
) -> None:
    """Two women with one name and different exact dates of birth are two persons, the
    first also recorded once with only her age. An imported age-only record of that name
    joins at most one of them, and the first stays whole (her two records are not split
    by the new one matching only one of them)."""
    base = good_rows(1, seed=5)[0]

    def person(source: str, dob: str | None, age: int | None, family: str) -> list[Any]:
        row = list(base)
        row[0], row[1], row[6], row[7] = source, "02/02/2024", age, dob
        row[3], row[4], row[9], row[10] = "María Elena", family, None, None
        return row

    # the first woman's family name as one register spells it; the new record agrees
    # exactly with the second woman's, so it meets her first
    first_spelling, second_spelling = "Quispe Guamán", "Quispe Huamán"

    first = police_xlsx(
        tmp_path,
        [
            person("A-1", "12/03/2001", None, first_spelling),
            person("A-2", None, 22, first_spelling),
            person("A-3", "30/09/2001", None, second_spelling),
        ],
        "a.xlsx",
    )
    assert run(app, "run", str(first), "--profile", "police-register", "--org", "PNP-TRATA-MDD")
    before = partition()
    assert len(before) == 2
    whole = max(before, key=len)
    assert len(whole) == 2  # the age-only record joined the woman of its spelling
    second = police_xlsx(tmp_path, [person("B-1", None, 23, second_spelling)], "b.xlsx")
    result = run(app, "run", str(second), "--profile", "police-register", "--org", "PNP-TRATA-CUS")
    assert result.exit_code == 0, result.output
    after = partition()
    one, other = sorted(before, key=min)
    assert not any(group & one and group & other for group in after)
    assert any(whole <= group for group in after)
    assert len(after) == 2  # the new record joined one of them
