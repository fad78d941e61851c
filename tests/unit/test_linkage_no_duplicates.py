"""A register without duplicates stays unlinked (benchmarks/imports.py finding).

On 100,000 police-register rows without any duplicate, EM found another class than "same
person": same given name and age, different family name and document. Its m made
disagreeing family names and documents no evidence against a match, and 26 % of the rows
were merged. ``model.degenerate`` catches such a fit; the hand-set m is kept and only the
share of matches is estimated."""

from __future__ import annotations

import random
import secrets

from caseapp.facts import model, probabilistic
from caseapp.facts.probabilistic import Row

GIVEN = ["María", "Rosa", "Luz Marina", "Ana", "Carmen", "Juana", "Elena", "Sonia", "Yesenia"]
FAMILY = [
    "Quispe", "Mamani", "Huamán", "Flores", "Condori", "Chambi", "Rojas", "Apaza", "Torres",
    "Ccori", "Vargas", "Ramos", "Cutipa", "Paucar", "Yupanqui", "Soto", "Luque", "Ticona",
    "Limachi", "Inga", "Tito", "Huanca", "Benites", "Peña", "Sánchez", "Díaz", "Vela",
]  # fmt: skip


def register(n: int, seed: int = 5) -> list[Row]:
    rng = random.Random(seed)  # noqa: S311 (test data)
    rows = []
    for k in range(n):
        doc = rng.random() < 0.7
        rows.append(
            Row(
                record_id=str(k),
                person_id=str(k),
                given_names=rng.choice(GIVEN),
                family_names=f"{rng.choice(FAMILY)} {rng.choice(FAMILY)}",
                sex="F",
                date_of_birth=None,
                birth_year=rng.randrange(1995, 2006),
                document_type=rng.choice(["dni", "passport", "foreign_id"]) if doc else None,
                document_number=str(rng.randrange(10_000_000, 99_999_999)) if doc else None,
            )
        )
    return rows


def test_a_register_without_duplicates_is_not_merged() -> None:
    rows = register(3000)
    keys = probabilistic.encode_rows(rows, secrets.token_bytes(32))
    linked = probabilistic.link(keys)
    assert linked.model.version.endswith("-fixed-m")  # EM's class was not "same person"
    assert not model.degenerate(linked.model)
    assert len(set(linked.clusters.tolist())) == len(rows)


def test_the_check_accepts_a_model_where_disagreement_is_evidence() -> None:
    assert not model.degenerate(model.default_model())
    bad = model.default_model()
    bad.m["doc"] = [0.0, 0.0, 1.0]  # documents disagree in every "match"
    assert model.degenerate(bad)
