"""Issue 14 item 4: words shown to people follow gender identity when it is recorded
(domain.md §2); statistics stay by the sex in the identity document (codes.md §2)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from caseapp.core import gender
from caseapp.referrals.rules import plan_referrals
from caseapp.screening.rules import PersonFacts, ScreeningFacts, profile
from tests.unit.test_referral_rules import COORDS, DIRECTORY, SEXUAL, person

WORDS = [
    # situation, sex, identity, age, Spanish category, English category, short es
    ("trans woman, document M", "M", "trans_feminine", "adult", "Mujer adulta (trans)",
     "Adult woman (trans)", "mujer trans"),
    ("trans man, document F", "F", "trans_masculine", "adult", "Hombre adulto (trans)",
     "Adult man (trans)", "varón trans"),
    ("trans girl 16, document M", "M", "trans_feminine", "age_14_17",
     "Niña o adolescente mujer (trans)", "Girl (trans)", "mujer trans"),
    ("trans boy 12, document F", "F", "trans_masculine", "under_14",
     "Niño o adolescente hombre (trans)", "Boy (trans)", "varón trans"),
    ("woman, identity not asked", "F", "not_specified", "adult", "Mujer adulta",
     "Adult woman", "mujer"),
    ("man, identity masculine", "M", "masculine", "adult", "Hombre adulto", "Adult man",
     "varón"),
    ("identity feminine recorded with document M", "M", "feminine", "adult", "Mujer adulta",
     "Adult woman", "mujer"),
    ("non-conforming, document F", "F", "non_conforming", "adult",
     "Persona adulta de género no conforme", "Adult, gender non-conforming",
     "género no conforme"),
    ("intersex, identity not asked", "intersex", "not_specified", "adult", "Persona adulta",
     "Adult", ""),
    ("sex unknown, age unknown", "unknown", None, "unknown", "Persona de edad desconocida",
     "Person of unknown age", ""),
    ("trans woman of unknown age (profile tag)", "M", "trans_feminine", "age_unknown",
     "Mujer de edad desconocida (trans)", "Woman of unknown age (trans)", "mujer trans"),
    ("presumed child by tag, document F", "F", None, "child", "Niña o adolescente mujer",
     "Girl", "mujer"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sex", "identity", "age", "es", "en", "short_es"),
    [row[1:] for row in WORDS],
    ids=[row[0] for row in WORDS],
)
def test_words_follow_gender_identity(sex, identity, age, es, en, short_es):
    words = gender.words(sex, identity, age)
    assert (words.category_es, words.category_en, words.short_es) == (es, en, short_es)
    assert words.category("en") == en and words.category("es") == es


def _texts(plan) -> str:
    parts = [r.es + " " + r.en for p in plan.proposals for r in p.reasons]
    parts += [g.es + " " + g.en for g in plan.gaps]
    return " ".join(parts)


def test_trans_woman_reasons_never_say_man_and_cem_line_agrees():
    facts = person(
        {"adult", "male", "lgbtqi"},
        age_years=30,
        sex="M",
        gender_identity="trans_feminine",
        purposes=SEXUAL,
        needs=frozenset({"psychological"}),
    )
    plan = plan_referrals(facts, DIRECTORY, COORDS)
    text = _texts(plan)
    for wrong in ("varón", "Hombre adulto", "hombre adulto", ", male", "Adult man"):
        assert wrong not in text, wrong
    assert "Persona adulta, mujer trans, 30 años" in text
    cem = plan.proposal_for("cem")
    assert cem is not None
    a2 = next(r for r in cem.reasons if r.code == "a2_adult_woman_cem")
    assert a2.es.startswith("A2 — Mujer adulta (trans): se recomienda el Centro Emergencia")
    assert a2.en.startswith("A2 — Adult woman (trans):")
    e6 = next(r for r in cem.reasons if r.code == "e6_psychological_cem")
    assert "(mujer trans)" in e6.es and "(trans woman)" in e6.en


def test_trans_man_is_worded_as_a_man():
    facts = person(
        {"adult", "female", "lgbtqi"},
        age_years=28,
        sex="F",
        gender_identity="trans_masculine",
        purposes=SEXUAL,
    )
    text = _texts(plan_referrals(facts, DIRECTORY, COORDS))
    assert "Persona adulta, varón trans, 28 años" in text
    assert "Mujer adulta" not in text and ", mujer" not in text


def test_statistics_category_stays_by_document_sex():
    """ADR 0024: unodc_category (codes.md §2) is defined by sex; identity has its own
    statistics dimension, so a trans woman with document sex M counts as `man` there."""
    facts = ScreeningFacts(
        identified_at=datetime(2026, 3, 11, 10, tzinfo=UTC),
        region="17",
        person=PersonFacts("M", age_years=30, gender_identity="trans_feminine"),
        acts=frozenset({"recruitment"}),
        means=frozenset(),
        purposes=frozenset({"sexual_exploitation"}),
    )
    result = profile(facts)
    assert result.unodc_category == "man"
    assert "lgbtqi" in result.tags and "male" in result.tags
