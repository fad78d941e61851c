"""Table-driven tests of domain.md §1 (determination) and §2 (profile), and of the code lists.

One row per legal situation, named by the situation. When a rule changes: bump
RULE_VERSION, change the rows here, and note it in docs/decisions/0003-screening-rules.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseapp.core import codes
from caseapp.core.decisions import Decision, Reason
from caseapp.screening import rules
from caseapp.screening.rules import (
    EXPLANATION_CODES,
    RULE_VERSION,
    STATUS_ORDER,
    TAG_ORDER,
    ContextFacts,
    PersonFacts,
    ScreeningFacts,
    age_at,
    assess_age,
    determine,
    exploitation_form,
    identification_date,
    is_child,
    profile,
)

LIMA = ZoneInfo("America/Lima")
# Saturday 22:30 in Lima is already Sunday 03:30 in UTC: dates must be taken in Lima.
IDENTIFIED = datetime(2026, 3, 14, 22, 30, tzinfo=LIMA)

ADULT = PersonFacts("F", age_years=30)
MAN = PersonFacts("M", age_years=30)
GIRL_16 = PersonFacts("F", age_years=16)
BOY_10 = PersonFacts("M", age_years=10)
AGE_UNKNOWN = PersonFacts("F")
PRESUMED_CHILD = PersonFacts("F", appears_minor=True)


def screening(
    person: PersonFacts = ADULT,
    *,
    acts: tuple[str, ...] = (),
    means: tuple[str, ...] = (),
    purposes: tuple[str, ...] = (),
    indicators: tuple[str, ...] = (),
    consent: bool = False,
    context: ContextFacts | None = None,
    identified_at: datetime = IDENTIFIED,
) -> ScreeningFacts:
    return ScreeningFacts(
        identified_at=identified_at,
        region="17",
        person=person,
        acts=frozenset(acts),
        means=frozenset(means),
        purposes=frozenset(purposes),
        indicators=frozenset(indicators),
        stated_consent=consent,
        context=context or ContextFacts(),
    )


def codes_of(reasons: tuple[Reason, ...]) -> list[str]:
    return [reason.code for reason in reasons]


# ==========================================================================================
# §1.2–§1.8 Status and missing elements
# ==========================================================================================


@dataclass(frozen=True)
class Case:
    facts: ScreeningFacts
    status: str
    missing: tuple[str, ...] = ()
    reasons: frozenset[str] = field(default_factory=frozenset)
    not_reasons: frozenset[str] = field(default_factory=frozenset)


def case(
    facts: ScreeningFacts,
    status: str,
    missing: tuple[str, ...] = (),
    reasons: tuple[str, ...] = (),
    not_reasons: tuple[str, ...] = (),
    *,
    id: str,
) -> object:
    return pytest.param(
        Case(facts, status, missing, frozenset(reasons), frozenset(not_reasons)), id=id
    )


DETERMINATION_CASES = [
    # §1.2 indicated: act and purpose and (child or means).
    case(
        screening(ADULT, acts=("recruitment",), means=("deception",), purposes=("forced_labour",)),
        "indicated",
        reasons=("act_present", "means_present", "purpose_present", "status_indicated"),
        not_reasons=("no_means", "child_means_not_required"),
        id="adult, act+means+purpose -> indicated",
    ),
    case(
        screening(GIRL_16, acts=("recruitment", "transport"), purposes=("sexual_exploitation",)),
        "indicated",
        reasons=("child_means_not_required", "status_indicated"),
        not_reasons=("no_means",),
        id="girl 16, no means recorded -> indicated",
    ),
    case(
        screening(BOY_10, acts=("retention",), purposes=("begging",)),
        "indicated",
        reasons=("child_means_not_required",),
        id="boy 10, retention + begging, no means -> indicated",
    ),
    case(
        screening(GIRL_16, acts=("transport",), means=("deception",), purposes=("servitude",)),
        "indicated",
        reasons=("means_present", "child_means_not_required"),
        id="child with means recorded -> indicated, means cited and not required",
    ),
    # §1.3 possible.
    case(
        screening(ADULT, acts=("recruitment",), purposes=("sexual_exploitation",)),
        "possible",
        ("means",),
        reasons=("no_means", "status_possible"),
        id="adult, act+purpose, no means -> possible, missing means",
    ),
    case(
        screening(ADULT, purposes=("labour_exploitation",)),
        "possible",
        ("act", "means"),
        reasons=("no_act", "no_means", "purpose_present"),
        id="adult, purpose only -> possible, missing act and means",
    ),
    case(
        screening(ADULT, acts=("transport",), means=("threat",)),
        "possible",
        ("purpose",),
        reasons=("no_purpose",),
        id="adult, act+means, no purpose -> possible, missing purpose",
    ),
    case(
        screening(ADULT, means=("deception",), purposes=("forced_labour",)),
        "possible",
        ("act",),
        id="adult, means+purpose, no act -> possible, missing act",
    ),
    case(
        screening(ADULT, indicators=("withholds_documents",)),
        "possible",
        ("act", "means", "purpose"),
        reasons=("strong_indicator",),
        id="adult, strong indicator only -> possible, missing everything",
    ),
    case(
        screening(GIRL_16, purposes=("sexual_exploitation",)),
        "possible",
        ("act",),
        not_reasons=("no_means",),
        id="child, purpose only -> possible, missing act only (never means)",
    ),
    case(
        screening(BOY_10, acts=("harbouring",), means=("violence",)),
        "possible",
        ("purpose",),
        id="child, act+means, no purpose -> possible, missing purpose",
    ),
    case(
        screening(BOY_10, indicators=("debt_bondage",)),
        "possible",
        ("act", "purpose"),
        id="child, strong indicator only -> possible, missing act and purpose",
    ),
    # §1.4 not_indicated.
    case(
        screening(ADULT),
        "not_indicated",
        ("act", "means", "purpose"),
        reasons=("no_act", "no_means", "no_purpose", "status_not_indicated"),
        id="adult, nothing recorded -> not_indicated, missing act, means, purpose",
    ),
    case(
        screening(ADULT, acts=("recruitment",)),
        "not_indicated",
        ("means", "purpose"),
        id="adult, act only -> not_indicated, missing means and purpose",
    ),
    case(
        screening(ADULT, means=("deception",)),
        "not_indicated",
        ("act", "purpose"),
        id="adult, means only -> not_indicated, missing act and purpose",
    ),
    case(
        screening(ADULT, indicators=("excessive_hours", "low_or_no_pay", "isolation")),
        "not_indicated",
        ("act", "means", "purpose"),
        reasons=("other_indicators",),
        not_reasons=("strong_indicator",),
        id="adult, only non-strong indicators -> not_indicated",
    ),
    case(
        screening(GIRL_16),
        "not_indicated",
        ("act", "purpose"),
        id="child, nothing recorded -> not_indicated, missing act and purpose (never means)",
    ),
    case(
        screening(BOY_10, acts=("recruitment",)),
        "not_indicated",
        ("purpose",),
        id="child, act only -> not_indicated, missing purpose only",
    ),
    case(
        screening(BOY_10, means=("threat",)),
        "not_indicated",
        ("act", "purpose"),
        id="child, means only -> not_indicated, missing act and purpose",
    ),
    # §1.5 any single act suffices; recruitment is not essential.
    case(
        screening(ADULT, acts=("retention",), means=("threat",), purposes=("forced_labour",)),
        "indicated",
        reasons=("act_without_recruitment",),
        id="retention alone as the act -> indicated (recruitment not essential)",
    ),
    case(
        screening(ADULT, acts=("receipt",), means=("fraud",), purposes=("sexual_exploitation",)),
        "indicated",
        reasons=("act_without_recruitment",),
        id="receipt alone as the act -> indicated (recruitment not essential)",
    ),
    case(
        screening(ADULT, acts=("recruitment",), means=("fraud",), purposes=("forced_labour",)),
        "indicated",
        not_reasons=("act_without_recruitment",),
        id="recruitment recorded -> no 'recruitment not required' note",
    ),
    # §1.6 the purpose counts, exploitation need not have happened.
    case(
        screening(ADULT, acts=("recruitment",), means=("deception",), purposes=("organ_removal",)),
        "indicated",
        reasons=("purpose_present",),
        id="purpose intended, exploitation not yet happened -> indicated",
    ),
    # §1.7 consent never downgrades.
    case(
        screening(
            ADULT,
            acts=("recruitment",),
            means=("deception",),
            purposes=("sexual_exploitation",),
            consent=True,
        ),
        "indicated",
        reasons=("consent_irrelevant_means_used",),
        not_reasons=("child_consent_irrelevant", "consent_no_effect"),
        id="consent stated with deception -> still indicated, consent irrelevant reason",
    ),
    case(
        screening(ADULT, acts=("recruitment",), purposes=("forced_labour",), consent=True),
        "possible",
        ("means",),
        reasons=("consent_no_effect",),
        not_reasons=("consent_irrelevant_means_used",),
        id="adult consent stated, no means -> still possible, consent has no effect",
    ),
    case(
        screening(GIRL_16, acts=("recruitment",), purposes=("sexual_exploitation",), consent=True),
        "indicated",
        reasons=("child_consent_irrelevant",),
        id="child says she agreed, no means -> still indicated, child consent irrelevant",
    ),
    case(
        screening(
            GIRL_16,
            acts=("recruitment",),
            means=("payments_or_benefits",),
            purposes=("sexual_exploitation",),
            consent=True,
        ),
        "indicated",
        reasons=("child_consent_irrelevant",),
        not_reasons=("consent_irrelevant_means_used",),
        id="child consent with means -> child consent reason only",
    ),
    case(
        screening(ADULT, acts=("recruitment",), means=("deception",), purposes=("begging",)),
        "indicated",
        not_reasons=(
            "child_consent_irrelevant",
            "consent_irrelevant_means_used",
            "consent_no_effect",
        ),
        id="no consent stated -> no consent reason",
    ),
    # §1.1 age drives the child rule.
    case(
        screening(PRESUMED_CHILD, acts=("transport",), purposes=("sexual_exploitation",)),
        "indicated",
        reasons=("age_presumed_child", "child_means_not_required"),
        id="appears_minor, no age -> presumed child, means not required",
    ),
    case(
        screening(AGE_UNKNOWN, acts=("transport",), purposes=("sexual_exploitation",)),
        "possible",
        ("means",),
        reasons=("age_unknown", "no_means"),
        id="nothing known about age -> adult rules, means required",
    ),
]


@pytest.mark.parametrize("row", DETERMINATION_CASES)
def test_determination(row: Case) -> None:
    result = determine(row.facts)
    found = set(codes_of(result.explanation))
    assert result.status == row.status
    assert result.missing_elements == row.missing
    assert row.reasons <= found, f"missing reasons {row.reasons - found}"
    assert not (row.not_reasons & found), f"unexpected reasons {row.not_reasons & found}"


@pytest.mark.parametrize("act", codes.ACT.codes)
def test_each_single_act_suffices(act: str) -> None:
    """§1.5: any one of the six acts, on its own, completes the act element."""
    result = determine(
        screening(ADULT, acts=(act,), means=("abuse_of_vulnerability",), purposes=("slavery",))
    )
    assert result.status == "indicated"


@pytest.mark.parametrize("indicator", sorted(codes.STRONG_INDICATORS))
def test_each_strong_indicator_alone_makes_possible(indicator: str) -> None:
    """§1.3 / codes.md §6: each strong indicator alone makes a screening `possible`."""
    assert determine(screening(ADULT, indicators=(indicator,))).status == "possible"


# ==========================================================================================
# §1.1 Age at identification
# ==========================================================================================


@dataclass(frozen=True)
class AgeCase:
    person: PersonFacts
    identified_at: datetime
    age_years: int | None
    tag: str
    reason: str
    alerts: tuple[str, ...] = ()


def age_case(
    person: PersonFacts,
    age_years: int | None,
    tag: str,
    reason: str,
    alerts: tuple[str, ...] = (),
    *,
    identified_at: datetime = IDENTIFIED,
    id: str,
) -> object:
    return pytest.param(AgeCase(person, identified_at, age_years, tag, reason, alerts), id=id)


AGE_CASES = [
    age_case(
        PersonFacts("F", date_of_birth=date(2007, 7, 1)),
        17,
        "child",
        "age_child",
        identified_at=datetime(2025, 6, 1, 10, 0, tzinfo=LIMA),
        id="child 17 by date of birth computed at identification date, 18 today -> child",
    ),
    age_case(
        PersonFacts("F", date_of_birth=date(2008, 3, 14)),
        18,
        "adult",
        "age_adult",
        id="18th birthday on the identification date -> adult",
    ),
    age_case(
        PersonFacts("F", date_of_birth=date(2008, 3, 15)),
        17,
        "child",
        "age_child",
        id="18th birthday tomorrow in Lima (already today in UTC) -> child",
    ),
    age_case(
        PersonFacts("M", date_of_birth=date(2008, 2, 29)),
        17,
        "child",
        "age_child",
        identified_at=datetime(2026, 2, 28, 12, 0, tzinfo=LIMA),
        id="born 29 February, identified 28 February of a common year -> still 17",
    ),
    age_case(
        PersonFacts("M", date_of_birth=date(2008, 2, 29)),
        18,
        "adult",
        "age_adult",
        identified_at=datetime(2026, 3, 1, 12, 0, tzinfo=LIMA),
        id="born 29 February, identified 1 March of a common year -> 18",
    ),
    age_case(
        PersonFacts("F", date_of_birth=date(2005, 1, 1), age_years=16),
        21,
        "adult",
        "age_adult",
        id="date of birth and age_years disagree -> date of birth wins",
    ),
    age_case(PersonFacts("F", age_years=17), 17, "child", "age_child", id="age_years 17 -> child"),
    age_case(PersonFacts("F", age_years=18), 18, "adult", "age_adult", id="age_years 18 -> adult"),
    age_case(PersonFacts("M", age_years=0), 0, "child", "age_child", id="baby, age 0 -> child"),
    age_case(
        PersonFacts("F", age_years=16, age_estimated=True),
        16,
        "child",
        "age_child",
        id="estimated age 16 -> child (estimate used as recorded)",
    ),
    age_case(
        PersonFacts("F", appears_minor=True),
        None,
        "child",
        "age_presumed_child",
        ("age_unknown_verify",),
        id="appears_minor, no age -> presumed child, verify age",
    ),
    age_case(
        PersonFacts("F", age_years=30, appears_minor=True),
        30,
        "adult",
        "age_adult",
        id="appears_minor but recorded age 30 -> adult (recorded age wins)",
    ),
    age_case(
        PersonFacts("F", age_years=15, appears_minor=False),
        15,
        "child",
        "age_child",
        id="does not appear minor but recorded age 15 -> child",
    ),
    age_case(
        PersonFacts("F", appears_minor=False),
        None,
        "age_unknown",
        "age_unknown",
        ("age_unknown_verify",),
        id="appears_minor false, no age -> age unknown, alert",
    ),
    age_case(
        PersonFacts("unknown"),
        None,
        "age_unknown",
        "age_unknown",
        ("age_unknown_verify",),
        id="nothing known -> age unknown, adult rules, alert",
    ),
]


@pytest.mark.parametrize("row", AGE_CASES)
def test_age(row: AgeCase) -> None:
    facts = screening(row.person, identified_at=row.identified_at)
    result = determine(facts)
    prof = profile(facts)
    assert prof.age_years == row.age_years
    assert row.tag in prof.tags
    assert is_child(facts) is (row.tag == "child")
    assert codes_of(result.explanation)[0] == row.reason
    assert result.alerts == row.alerts


def test_age_is_taken_in_lima_not_utc() -> None:
    assert IDENTIFIED.astimezone(UTC).date() == date(2026, 3, 15)
    assert identification_date(IDENTIFIED) == date(2026, 3, 14)
    utc = datetime(2026, 3, 15, 3, 30, tzinfo=UTC)
    assert identification_date(utc) == date(2026, 3, 14)


def test_age_at_uses_date_of_birth_else_age_years() -> None:
    on = date(2026, 3, 14)
    assert age_at(on, PersonFacts("F", date_of_birth=date(2010, 3, 14), age_years=99)) == 16
    assert age_at(on, PersonFacts("F", age_years=40)) == 40
    assert age_at(on, PersonFacts("F")) is None


def test_naive_identification_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        determine(screening(ADULT, identified_at=datetime(2026, 3, 14, 22, 30)))


def test_age_basis_is_recorded() -> None:
    assert assess_age(screening(PRESUMED_CHILD)).basis == rules.AGE_PRESUMED_MINOR
    assert assess_age(screening(AGE_UNKNOWN)).basis == rules.AGE_UNKNOWN
    assert assess_age(screening(GIRL_16)).basis == rules.AGE_FROM_AGE_YEARS


# ==========================================================================================
# §1.9 Aggravating circumstances
# ==========================================================================================


def aggravating_case(
    person: PersonFacts,
    expected: tuple[str, ...],
    context: ContextFacts | None = None,
    *,
    id: str,
) -> object:
    return pytest.param(person, context or ContextFacts(), expected, id=id)


AGGRAVATING_CASES = [
    aggravating_case(
        PersonFacts("F", age_years=13), ("victim_under_14",), id="age 13 -> victim_under_14"
    ),
    aggravating_case(
        PersonFacts("M", age_years=0), ("victim_under_14",), id="age 0 -> victim_under_14"
    ),
    aggravating_case(
        PersonFacts("F", age_years=14), ("victim_14_17",), id="age 14 -> victim_14_17"
    ),
    aggravating_case(
        PersonFacts("F", age_years=17), ("victim_14_17",), id="age 17 -> victim_14_17"
    ),
    aggravating_case(PersonFacts("F", age_years=18), (), id="age 18 -> no age aggravation"),
    aggravating_case(
        PRESUMED_CHILD, (), id="presumed child without age -> no age aggravation (band unknown)"
    ),
    aggravating_case(AGE_UNKNOWN, (), id="age unknown -> no age aggravation"),
    aggravating_case(
        PersonFacts("F", age_years=25, pregnant=True), ("pregnant",), id="pregnant -> pregnant"
    ),
    aggravating_case(
        PersonFacts("M", age_years=40, disability=True),
        ("disability",),
        id="disability -> disability",
    ),
    aggravating_case(
        ADULT,
        ("public_official_involved",),
        ContextFacts(public_official_involved=True),
        id="public official involved flag -> public_official_involved",
    ),
    aggravating_case(
        ADULT,
        ("relative_or_guardian_involved",),
        ContextFacts(trafficker_relation="family"),
        id="trafficker is family -> relative_or_guardian_involved",
    ),
    aggravating_case(
        ADULT,
        (),
        ContextFacts(trafficker_relation="intimate_partner"),
        id="trafficker is intimate partner -> not relative_or_guardian (not inferred)",
    ),
    aggravating_case(
        ADULT,
        ("multiple_victims",),
        ContextFacts(multiple_victims=True),
        id="multiple victims flag -> multiple_victims",
    ),
    aggravating_case(
        ADULT,
        ("criminal_organization",),
        ContextFacts(criminal_organization=True),
        id="criminal organization flag -> criminal_organization",
    ),
    aggravating_case(
        ADULT,
        ("serious_injury_or_death",),
        ContextFacts(serious_injury_or_death=True),
        id="serious injury or death flag -> serious_injury_or_death",
    ),
    aggravating_case(
        PersonFacts("F", age_years=12, pregnant=True, disability=True),
        (
            "victim_under_14",
            "pregnant",
            "disability",
            "public_official_involved",
            "relative_or_guardian_involved",
            "multiple_victims",
            "criminal_organization",
            "serious_injury_or_death",
        ),
        ContextFacts(
            trafficker_relation="family",
            public_official_involved=True,
            multiple_victims=True,
            criminal_organization=True,
            serious_injury_or_death=True,
        ),
        id="all circumstances at once -> all, in codes.md order",
    ),
]


@pytest.mark.parametrize(("person", "context", "expected"), AGGRAVATING_CASES)
def test_aggravating(person: PersonFacts, context: ContextFacts, expected: tuple[str, ...]) -> None:
    result = determine(screening(person, acts=("recruitment",), context=context))
    assert result.aggravating == expected
    assert ("aggravating_present" in codes_of(result.explanation)) is bool(expected)


def test_aggravating_never_changes_status() -> None:
    everything = ContextFacts(
        trafficker_relation="family",
        public_official_involved=True,
        multiple_victims=True,
        criminal_organization=True,
        serious_injury_or_death=True,
    )
    person = PersonFacts("F", age_years=30, pregnant=True, disability=True)
    plain = screening(ADULT, acts=("recruitment",), purposes=("forced_labour",))
    aggravated = replace(plain, person=person, context=everything)
    assert determine(aggravated).status == determine(plain).status == "possible"
    assert determine(aggravated).missing_elements == ("means",)


# ==========================================================================================
# §1.10 Explanation, version, API shape
# ==========================================================================================


def test_explanation_cites_recorded_elements_by_label() -> None:
    result = determine(
        screening(
            ADULT,
            acts=("transport", "recruitment"),
            means=("deception",),
            purposes=("sexual_exploitation",),
            indicators=("withholds_documents",),
        )
    )
    by_code = {reason.code: reason for reason in result.explanation}
    assert "captación y transporte" in by_code["act_present"].es
    assert "recruitment and transport" in by_code["act_present"].en
    assert "engaño" in by_code["means_present"].es
    assert "deception" in by_code["means_present"].en
    assert "explotación sexual" in by_code["purpose_present"].es
    assert (
        "no es necesario que la explotación ya se haya producido" in by_code["purpose_present"].es
    )
    assert "le retienen sus documentos" in by_code["strong_indicator"].es


def test_explanation_cites_missing_elements() -> None:
    result = determine(screening(ADULT, purposes=("forced_labour",)))
    (status_reason,) = [r for r in result.explanation if r.code == "status_possible"]
    assert "Falta: acto y medio" in status_reason.es
    assert "Missing: act and means" in status_reason.en


def test_explanation_shows_unrecognised_codes_verbatim() -> None:
    result = determine(screening(ADULT, acts=("recruitment", "zz_new_act")))
    (act_reason,) = [r for r in result.explanation if r.code == "act_present"]
    assert act_reason.es.startswith("Se registró al menos un acto: captación y zz_new_act")


def test_explanation_structure() -> None:
    result = determine(screening(GIRL_16, acts=("recruitment",), purposes=("begging",)))
    found = codes_of(result.explanation)
    assert found[0] in {"age_child", "age_presumed_child", "age_adult", "age_unknown"}
    assert sum(code.startswith("status_") for code in found) == 1
    assert found[-1] == "advice_not_legal_finding"
    assert all(reason.es and reason.en for reason in result.explanation)


def test_consent_explanation_names_the_means() -> None:
    result = determine(
        screening(ADULT, acts=("recruitment",), means=("deception", "threat"), consent=True)
    )
    (reason,) = [r for r in result.explanation if r.code == "consent_irrelevant_means_used"]
    assert "amenaza y engaño" in reason.es
    assert "threat and deception" in reason.en


def test_rule_version_travels_with_the_decision() -> None:
    result = determine(screening(ADULT))
    assert RULE_VERSION == "2026.1"
    assert result.rule_version == RULE_VERSION
    decision = result.as_decision()
    assert decision == Decision(result.status, result.explanation, RULE_VERSION)


def test_determination_as_dict_is_exactly_the_api_object() -> None:
    result = determine(
        screening(
            GIRL_16,
            acts=("recruitment", "transport"),
            means=("deception",),
            purposes=("sexual_exploitation",),
        )
    )
    data = result.as_dict()
    assert set(data) == {
        "status",
        "missing_elements",
        "aggravating",
        "exploitation_form",
        "explanation",
    }
    assert data["status"] == "indicated"
    assert data["aggravating"] == ["victim_14_17"]
    assert data["exploitation_form"] == "sexual_exploitation"
    assert json.loads(json.dumps(data)) == data
    explanation = data["explanation"]
    assert isinstance(explanation, list)
    assert all(set(item) == {"code", "es", "en"} for item in explanation)
    assert [Reason.from_dict(item) for item in explanation] == list(result.explanation)


def test_profile_as_dict_is_exactly_the_api_object() -> None:
    data = profile(screening(GIRL_16)).as_dict()
    assert data == {"tags": ["child", "female"], "age_group": "age_14_17", "unodc_category": "girl"}


# ==========================================================================================
# Derived exploitation form
# ==========================================================================================

FORM_CASES = [
    pytest.param((), "none", id="no purpose -> none"),
    pytest.param(("sexual_exploitation",), "sexual_exploitation", id="only sexual -> sexual"),
    pytest.param(("forced_labour",), "forced_labour", id="forced labour -> forced_labour"),
    pytest.param(("servitude",), "forced_labour", id="servitude -> forced_labour"),
    pytest.param(("slavery",), "forced_labour", id="slavery -> forced_labour"),
    pytest.param(
        ("labour_exploitation",), "forced_labour", id="labour exploitation -> forced_labour"
    ),
    pytest.param(
        ("servitude", "labour_exploitation"),
        "forced_labour",
        id="several labour purposes only -> forced_labour",
    ),
    pytest.param(
        ("sexual_exploitation", "forced_labour"),
        "mixed_sexual_labour",
        id="sexual and labour -> mixed_sexual_labour",
    ),
    pytest.param(
        ("sexual_exploitation", "servitude", "slavery"),
        "mixed_sexual_labour",
        id="sexual and several labour -> mixed_sexual_labour",
    ),
    pytest.param(("begging",), "begging", id="begging alone -> begging"),
    pytest.param(("organ_removal",), "organ_removal", id="organ removal alone -> organ_removal"),
    pytest.param(
        ("sale_of_children",), "sale_of_children", id="sale of children alone -> sale_of_children"
    ),
    pytest.param(
        ("forced_criminality",),
        "forced_criminality",
        id="forced criminality alone -> forced_criminality",
    ),
    pytest.param(
        ("forced_marriage",), "forced_marriage", id="forced marriage alone -> forced_marriage"
    ),
    pytest.param(
        ("armed_recruitment",),
        "armed_recruitment",
        id="armed recruitment alone -> armed_recruitment",
    ),
    pytest.param(("other",), "other", id="other analogous form alone -> other"),
    pytest.param(("zz_unlisted",), "other", id="unrecognised single purpose -> other"),
    pytest.param(
        ("begging", "forced_criminality"), "multiple_other", id="two other purposes -> multiple"
    ),
    pytest.param(
        ("sexual_exploitation", "begging"), "multiple_other", id="sexual + begging -> multiple"
    ),
    pytest.param(
        ("forced_labour", "begging"),
        "multiple_other",
        id="labour + begging -> multiple (begging is not a labour purpose here)",
    ),
    pytest.param(
        ("sexual_exploitation", "forced_labour", "organ_removal"),
        "multiple_other",
        id="sexual + labour + another -> multiple_other",
    ),
]


@pytest.mark.parametrize(("purposes", "expected"), FORM_CASES)
def test_exploitation_form(purposes: tuple[str, ...], expected: str) -> None:
    assert exploitation_form(purposes) == expected
    assert determine(screening(ADULT, purposes=purposes)).exploitation_form == expected


# ==========================================================================================
# §2 Profile tags
# ==========================================================================================

PROFILE_TAG_CASES = [
    pytest.param(GIRL_16, ("child", "female"), id="girl 16 -> child, female"),
    pytest.param(MAN, ("adult", "male"), id="man 30 -> adult, male"),
    pytest.param(PersonFacts("unknown"), ("age_unknown",), id="nothing known -> age_unknown"),
    pytest.param(PRESUMED_CHILD, ("child", "female"), id="presumed child -> child"),
    pytest.param(
        PersonFacts("intersex", age_years=20),
        ("adult", "lgbtqi"),
        id="intersex -> lgbtqi, neither female nor male",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, lgbtqi=True), ("adult", "female", "lgbtqi"), id="lgbtqi true"
    ),
    pytest.param(
        PersonFacts("F", age_years=20, lgbtqi=False, gender_identity="feminine"),
        ("adult", "female"),
        id="lgbtqi false, feminine -> no lgbtqi",
    ),
    pytest.param(
        PersonFacts("M", age_years=20, gender_identity="trans_feminine"),
        ("adult", "male", "lgbtqi"),
        id="trans feminine -> lgbtqi (sex tag stays as recorded)",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, gender_identity="trans_masculine"),
        ("adult", "female", "lgbtqi"),
        id="trans masculine -> lgbtqi",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, gender_identity="non_conforming"),
        ("adult", "female", "lgbtqi"),
        id="non-conforming -> lgbtqi",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, gender_identity="not_specified"),
        ("adult", "female"),
        id="gender identity not specified -> no lgbtqi",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, nationality=("VEN",)),
        ("adult", "female", "foreign"),
        id="Venezuelan -> foreign",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, nationality=("PER",)),
        ("adult", "female"),
        id="Peruvian -> not foreign",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, nationality=("VEN", "PER")),
        ("adult", "female"),
        id="dual Venezuelan-Peruvian -> not foreign",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, nationality=()),
        ("adult", "female"),
        id="nationality unknown -> not foreign",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, nationality=("XXA",)),
        ("adult", "female", "foreign"),
        id="stateless (XXA) -> foreign",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, languages=("qu",)),
        ("adult", "female", "indigenous_language"),
        id="Quechua only -> indigenous_language",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, languages=("es", "qu")),
        ("adult", "female"),
        id="Quechua and Spanish -> not indigenous_language",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, languages=("es",)),
        ("adult", "female"),
        id="Spanish only -> not indigenous_language",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, languages=()),
        ("adult", "female"),
        id="no language recorded -> not indigenous_language",
    ),
    pytest.param(
        PersonFacts("F", age_years=20, languages=("pt",)),
        ("adult", "female", "indigenous_language"),
        id="Portuguese only -> indigenous_language (spec: any non-Spanish without Spanish)",
    ),
    pytest.param(
        PersonFacts("M", age_years=15, unaccompanied=True),
        ("child", "male", "unaccompanied"),
        id="unaccompanied child -> unaccompanied",
    ),
    pytest.param(
        PersonFacts("M", appears_minor=True, unaccompanied=True),
        ("child", "male", "unaccompanied"),
        id="unaccompanied presumed child -> unaccompanied",
    ),
    pytest.param(
        PersonFacts("M", age_years=25, unaccompanied=True),
        ("adult", "male"),
        id="unaccompanied adult -> no unaccompanied tag",
    ),
    pytest.param(
        PersonFacts("F", age_years=25, migration_status="asylum_seeker"),
        ("adult", "female", "asylum_seeker"),
        id="asylum seeker -> asylum_seeker",
    ),
    pytest.param(
        PersonFacts("F", age_years=25, migration_status="refugee"),
        ("adult", "female", "asylum_seeker"),
        id="recognised refugee -> asylum_seeker",
    ),
    pytest.param(
        PersonFacts("F", age_years=25, migration_status="irregular"),
        ("adult", "female"),
        id="irregular migrant -> no asylum_seeker",
    ),
    pytest.param(
        PersonFacts(
            "F",
            age_years=15,
            lgbtqi=True,
            nationality=("VEN",),
            languages=("other",),
            unaccompanied=True,
            migration_status="refugee",
        ),
        (
            "child",
            "female",
            "lgbtqi",
            "foreign",
            "indigenous_language",
            "unaccompanied",
            "asylum_seeker",
        ),
        id="every tag at once -> stable order of domain.md §2",
    ),
]


@pytest.mark.parametrize(("person", "expected"), PROFILE_TAG_CASES)
def test_profile_tags(person: PersonFacts, expected: tuple[str, ...]) -> None:
    assert profile(screening(person)).tags == expected


# ==========================================================================================
# codes.md §2 Age bands and UNODC category (boundaries: whole years, both ends inclusive)
# ==========================================================================================

BAND_EDGES = {
    "age_group": [
        (0, "under_14"),
        (13, "under_14"),
        (14, "age_14_17"),
        (17, "age_14_17"),
        (18, "adult"),
        (95, "adult"),
    ],
    "mp_band": [
        (0, "0_12"),
        (12, "0_12"),
        (13, "13_17"),
        (17, "13_17"),
        (18, "18_24"),
        (24, "18_24"),
        (25, "25_34"),
        (34, "25_34"),
        (35, "35_44"),
        (44, "35_44"),
        (45, "45_64"),
        (64, "45_64"),
        (65, "65_plus"),
        (99, "65_plus"),
    ],
    "ctdc_band": [
        (0, "0_8"),
        (8, "0_8"),
        (9, "9_17"),
        (17, "9_17"),
        (18, "18_20"),
        (20, "18_20"),
        (21, "21_23"),
        (23, "21_23"),
        (24, "24_26"),
        (26, "24_26"),
        (27, "27_29"),
        (29, "27_29"),
        (30, "30_38"),
        (38, "30_38"),
        (39, "39_47"),
        (47, "39_47"),
        (48, "48_plus"),
        (90, "48_plus"),
    ],
}
BAND_CASES = [
    pytest.param(scheme, age, band, id=f"{scheme}: age {age} -> {band}")
    for scheme, edges in BAND_EDGES.items()
    for age, band in edges
] + [
    pytest.param(scheme, None, "unknown", id=f"{scheme}: no age -> unknown")
    for scheme in BAND_EDGES
]


@pytest.mark.parametrize(("scheme", "age", "band"), BAND_CASES)
def test_age_bands(scheme: str, age: int | None, band: str) -> None:
    prof = profile(screening(PersonFacts("F", age_years=age)))
    assert getattr(prof, scheme) == band


def test_presumed_child_has_unknown_bands_but_is_counted_as_a_child() -> None:
    prof = profile(screening(PRESUMED_CHILD))
    assert (prof.age_group, prof.mp_band, prof.ctdc_band) == ("unknown", "unknown", "unknown")
    assert prof.unodc_category == "girl"


UNODC_CASES = [
    pytest.param(PersonFacts("F", age_years=16), "girl", id="female child -> girl"),
    pytest.param(PersonFacts("M", age_years=9), "boy", id="male child -> boy"),
    pytest.param(PersonFacts("F", age_years=18), "woman", id="female adult -> woman"),
    pytest.param(PersonFacts("M", age_years=40), "man", id="male adult -> man"),
    pytest.param(PersonFacts("F", appears_minor=True), "girl", id="presumed girl -> girl"),
    pytest.param(PersonFacts("intersex", age_years=12), "unknown", id="intersex -> unknown"),
    pytest.param(PersonFacts("unknown", age_years=30), "unknown", id="sex unknown -> unknown"),
    pytest.param(PersonFacts("F"), "unknown", id="female, age unknown -> unknown"),
    pytest.param(
        PersonFacts("M", age_years=30, gender_identity="trans_feminine"),
        "man",
        id="trans woman recorded sex M -> by sex (codes.md §2)",
    ),
]


@pytest.mark.parametrize(("person", "expected"), UNODC_CASES)
def test_unodc_category(person: PersonFacts, expected: str) -> None:
    assert profile(screening(person)).unodc_category == expected


def test_rule_bands_match_the_code_lists() -> None:
    for bands, code_list in (
        (rules.AGE_GROUP_BANDS, codes.AGE_GROUP),
        (rules.MP_BANDS, codes.MP_BAND),
        (rules.CTDC_BANDS, codes.CTDC_BAND),
    ):
        assert tuple(band for _, band in bands) + ("unknown",) == code_list.codes


# ==========================================================================================
# Properties
# ==========================================================================================

persons = st.builds(
    PersonFacts,
    sex=st.sampled_from(codes.SEX.codes),
    gender_identity=st.none() | st.sampled_from(codes.GENDER_IDENTITY.codes),
    lgbtqi=st.none() | st.booleans(),
    date_of_birth=st.none() | st.dates(date(1920, 1, 1), date(2026, 3, 14)),
    age_years=st.none() | st.integers(0, 105),
    age_estimated=st.booleans(),
    appears_minor=st.none() | st.booleans(),
    nationality=st.lists(st.sampled_from(("PER", "VEN", "COL", "CHN", "XXA")), max_size=2).map(
        tuple
    ),
    languages=st.lists(st.sampled_from(codes.LANGUAGE.codes), max_size=3).map(tuple),
    migration_status=st.none() | st.sampled_from(codes.MIGRATION_STATUS.codes),
    unaccompanied=st.booleans(),
    pregnant=st.booleans(),
    disability=st.booleans(),
)
contexts = st.builds(
    ContextFacts,
    trafficker_relation=st.none() | st.sampled_from(codes.TRAFFICKER_RELATION.codes),
    public_official_involved=st.booleans(),
    multiple_victims=st.booleans(),
    criminal_organization=st.booleans(),
    serious_injury_or_death=st.booleans(),
)


def subsets(code_list: codes.CodeList) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(code_list.codes), max_size=3)


facts_strategy = st.builds(
    ScreeningFacts,
    identified_at=st.datetimes(
        datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(LIMA)
    ),
    region=st.sampled_from(codes.REGION.codes),
    person=persons,
    acts=subsets(codes.ACT),
    means=subsets(codes.MEANS),
    purposes=subsets(codes.PURPOSE),
    indicators=subsets(codes.INDICATOR),
    stated_consent=st.booleans(),
    context=contexts,
)
ELEMENT_LISTS = {
    "acts": codes.ACT,
    "means": codes.MEANS,
    "purposes": codes.PURPOSE,
    "indicators": codes.INDICATOR,
}


def rank(status: str) -> int:
    return STATUS_ORDER.index(status)


@settings(max_examples=300)
@given(facts=facts_strategy, data=st.data())
def test_adding_an_element_never_lowers_the_determination(
    facts: ScreeningFacts, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(ELEMENT_LISTS)))
    code = data.draw(st.sampled_from(ELEMENT_LISTS[kind].codes))
    more = replace(facts, **{kind: getattr(facts, kind) | {code}})
    assert rank(determine(more).status) >= rank(determine(facts).status)


@settings(max_examples=300)
@given(facts=facts_strategy)
def test_a_child_never_misses_means(facts: ScreeningFacts) -> None:
    if is_child(facts):
        assert "means" not in determine(facts).missing_elements


@settings(max_examples=300)
@given(facts=facts_strategy)
def test_stated_consent_never_changes_the_status(facts: ScreeningFacts) -> None:
    with_consent = determine(replace(facts, stated_consent=True))
    without = determine(replace(facts, stated_consent=False))
    assert with_consent.status == without.status
    assert with_consent.missing_elements == without.missing_elements


@settings(max_examples=300)
@given(facts=facts_strategy)
def test_determination_invariants(facts: ScreeningFacts) -> None:
    result = determine(facts)
    prof = profile(facts)
    # indicated exactly when nothing is missing; missing elements keep their order.
    assert (result.status == "indicated") == (result.missing_elements == ())
    assert list(result.missing_elements) == sorted(
        result.missing_elements, key=rules.ELEMENTS.index
    )
    # codes stay inside their lists, explanation inside the documented set.
    assert set(codes_of(result.explanation)) <= EXPLANATION_CODES
    assert set(result.aggravating) <= set(codes.AGGRAVATING.codes)
    assert result.exploitation_form in codes.EXPLOITATION_FORM
    assert set(result.alerts) <= set(codes.ALERT.codes)
    assert all(reason.es and reason.en for reason in result.explanation)
    # exactly one age tag, tags in the stable order.
    assert len({"child", "adult", "age_unknown"} & set(prof.tags)) == 1
    assert list(prof.tags) == sorted(prof.tags, key=TAG_ORDER.index)
    for scheme, code_list in (
        ("age_group", codes.AGE_GROUP),
        ("unodc_category", codes.UNODC_CATEGORY),
        ("mp_band", codes.MP_BAND),
        ("ctdc_band", codes.CTDC_BAND),
    ):
        assert getattr(prof, scheme) in code_list


@settings(max_examples=100)
@given(facts=facts_strategy, hours=st.integers(-30, 30))
def test_same_lima_date_same_age(facts: ScreeningFacts, hours: int) -> None:
    """Only the Lima calendar date of identification matters, not the clock time."""
    moved = facts.identified_at + timedelta(hours=hours)
    if identification_date(moved) == identification_date(facts.identified_at):
        assert profile(replace(facts, identified_at=moved)) == profile(facts)


# ==========================================================================================
# Code lists (codes.md)
# ==========================================================================================


@pytest.mark.parametrize("name", sorted(codes.LISTS))
def test_every_code_list_is_well_formed(name: str) -> None:
    code_list = codes.get(name)
    assert code_list.name == name
    assert len(code_list) > 0
    assert len(set(code_list.codes)) == len(code_list.codes)
    for item in code_list:
        assert re.fullmatch(r"[a-z0-9_]+|[A-Z]{3}|F|M", item.code), item.code
        assert item.es.strip() and item.en.strip(), item.code
        assert item.code in code_list
        assert code_list.label(item.code, "es") == item.es
        assert code_list.label(item.code, "en") == item.en
    assert code_list.choices("en") == [(item.code, item.en) for item in code_list]


SPEC_LISTS = {
    "sex": "F M intersex unknown",
    "gender_identity": "feminine masculine trans_feminine trans_masculine non_conforming "
    "not_specified",
    "document_type": "dni carne_extranjeria ptp passport cedula_foreign none other",
    "language": "es qu ay ash agr shp en pt other",
    "migration_status": "national regular irregular asylum_seeker refugee stateless unknown",
    "age_group": "under_14 age_14_17 adult unknown",
    "unodc_category": "girl boy woman man unknown",
    "mp_band": "0_12 13_17 18_24 25_34 35_44 45_64 65_plus unknown",
    "ctdc_band": "0_8 9_17 18_20 21_23 24_26 27_29 30_38 39_47 48_plus unknown",
    "act": "recruitment transport transfer harbouring receipt retention",
    "means": "violence threat other_coercion deprivation_of_liberty fraud deception "
    "abuse_of_power abuse_of_vulnerability payments_or_benefits",
    "purpose": "sexual_exploitation sale_of_children slavery servitude forced_labour "
    "labour_exploitation begging organ_removal forced_criminality forced_marriage "
    "armed_recruitment other",
    "sector": "agriculture logging mining fishing construction domestic_work hospitality_bars "
    "manufacturing begging peddling transportation illicit_activities commercial_sex other "
    "unknown",
    "indicator": "debt_bondage withholds_documents restricts_movement physical_abuse "
    "sexual_abuse takes_earnings restricts_financial_access threats threat_law_enforcement "
    "psychological_abuse false_promises psychoactive_substances restricts_medical_care "
    "excessive_hours uses_children withholds_necessities low_or_no_pay hazardous_work "
    "isolation other",
    "identification_context": "police_operation prosecutor_investigation labour_inspection "
    "hotline health_service school ngo_outreach border_control self_referral "
    "family_or_community other",
    "trafficker_relation": "family intimate_partner friend_or_acquaintance employer_or_agent "
    "stranger unknown",
    "recruitment_method": "job_offer online_social_network online_advertisement "
    "family_or_event friend abduction school other unknown",
    "need": "shelter medical psychological legal interpreter protection family_tracing "
    "documentation financial education employment return_assistance",
    "alert": "age_unknown_verify child_not_in_police_station interpreter_needed "
    "possible_duplicate consent_missing overdue_mandatory_referral urgent_medical_care",
    "aggravating": "victim_under_14 victim_14_17 pregnant disability public_official_involved "
    "relative_or_guardian_involved multiple_victims criminal_organization "
    "serious_injury_or_death",
    "service_type": "mimp_upe car_specialized_trafficking car_general cem udavit "
    "prosecutor_trafficking police_trafficking legal_aid_minjusdh ngo_shelter ngo_services "
    "health_minsa labor_inspection_sunafil migration_migraciones iom refugee_cepr unhcr consulate "
    "demuna",
    "org_kind": "police prosecutor judiciary mimp labour migration health legal_aid "
    "local_government ngo international other",
    "gap": "no_state_shelter_adult_men no_shelter_accepting_transgender "
    "no_specialized_shelter_boys no_provider_in_region no_provider_for_profile capacity_full "
    "after_hours_unavailable no_service_for_need",
    "decline_reason": "no_capacity not_eligible unreachable other",
    "discharge_reason": "family_reintegration independent_living transferred left_voluntarily "
    "other",
    "determination_status": "indicated possible not_indicated",
    "referral_priority": "mandatory recommended",
    "referral_status": "pending_consent unassigned ready sent accepted declined completed "
    "cancelled",
    "consent_given_by": "person legal_representative upe",
    "consent_method": "verbal written",
    "exploitation_form": "sexual_exploitation forced_labour mixed_sexual_labour begging "
    "organ_removal sale_of_children forced_criminality forced_marriage armed_recruitment "
    "other multiple_other none",
    "gender_identity_collapsed": "woman man trans_or_non_conforming unknown",
    "nationality_group": "peruvian foreign unknown",
}


@pytest.mark.parametrize(("name", "expected"), sorted(SPEC_LISTS.items()))
def test_code_list_matches_the_spec(name: str, expected: str) -> None:
    assert codes.get(name).codes == tuple(expected.split())


def test_rule_sets_are_the_spec_sets() -> None:
    assert set(codes.SEXUAL_PURPOSES) == {"sexual_exploitation"}
    assert set(codes.LABOUR_PURPOSES) == {
        "slavery",
        "servitude",
        "forced_labour",
        "labour_exploitation",
    }
    assert set(codes.STRONG_INDICATORS) == {
        "debt_bondage",
        "withholds_documents",
        "restricts_movement",
        "physical_abuse",
        "sexual_abuse",
    }
    assert set(codes.LGBTQI_GENDER_IDENTITIES) == {
        "trans_feminine",
        "trans_masculine",
        "non_conforming",
    }


def test_acts_means_and_purposes_explain_themselves() -> None:
    for code_list in (codes.ACT, codes.MEANS, codes.PURPOSE):
        for item in code_list:
            assert item.help_es and item.help_en, item.code
            assert item.help("en") == item.help_en
    assert "trabajo que no existía" in (codes.MEANS["deception"].help_es or "")
    assert codes.ACT.label("recruitment") == "Captación"


PURPOSE_CROSSWALK = {
    "sexual_exploitation": ("sexual exploitation", "02041"),
    "sale_of_children": ("baby selling / illegal adoption", "02044"),
    "slavery": ("forced labour", "02042"),
    "servitude": ("forced labour", "02042"),
    "forced_labour": ("forced labour", "02042"),
    "labour_exploitation": ("forced labour", "02042"),
    "begging": ("begging", "02044"),
    "organ_removal": ("organ removal", "02043"),
    "forced_criminality": ("forced criminal activity", "02044"),
    "forced_marriage": ("forced marriage", "02044"),
    "armed_recruitment": ("other", "02044"),
    "other": ("other", "02044"),
}


def test_purpose_crosswalk_is_codes_md_table() -> None:
    for item in codes.PURPOSE:
        assert (item.extra["glotip"], item.extra["iccs"]) == PURPOSE_CROSSWALK[item.code]


def test_regions_include_both_limas_abroad_and_unknown() -> None:
    region = codes.REGION
    assert "1501" in region and "15" in region
    assert region.label("1501") == "Lima Metropolitana"
    assert region.label("15") == "Región Lima"
    assert region.codes[-2:] == ("abroad", "unknown")
    assert len(region) == 26 + 2
    assert codes.region_coordinates("17") == (-12.5933, -69.1891)
    assert codes.region_coordinates("abroad") is None
    assert codes.region_coordinates("99") is None


def test_packaged_regions_are_a_copy_of_the_spec() -> None:
    packaged = Path(codes.__file__).parent / "data" / "regions.csv"
    # the spec lies beside the repository (../shared/spec), in a clone as in CI
    spec = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "regions.csv"
    assert spec.exists(), f"the shared spec is missing: {spec}"
    assert packaged.read_bytes() == spec.read_bytes()


def test_nationalities_are_iso3_with_peru_first() -> None:
    nat = codes.NATIONALITY
    assert nat.codes[0] == "PER"
    for code in ("PER", "VEN", "COL", "ECU", "BOL", "CHL", "BRA", "ARG", "CHN", "HTI", "DOM"):
        assert code in nat and nat[code].extra["common"] is True
    assert nat.label("VEN") == "Venezuela"
    assert nat.label("USA", "en") == "United States"
    assert "XXA" in nat  # stateless (ICAO 9303)
    assert len(nat) == 249 + 1


def test_labels_lookup_and_locale_fallback() -> None:
    assert codes.SEX.label("F") == "Femenino"
    assert codes.SEX.label("F", "en_US") == "Female"
    assert codes.SEX.label("F", "qu") == "Femenino"  # unsupported UI language -> Spanish
    assert "X" not in codes.SEX and 3 not in codes.SEX
    with pytest.raises(KeyError):
        codes.SEX.label("X")
    with pytest.raises(KeyError):
        codes.get("no_such_list")


def test_crosswalk_columns() -> None:
    assert codes.INDICATOR["debt_bondage"].extra["ctdc"] == "meansOfControlDebtBondage"
    assert codes.CTDC_BAND["48_plus"].extra["ctdc"] == "48+"
    assert codes.GENDER_IDENTITY["trans_feminine"].extra["collapsed"] == "trans_or_non_conforming"
    assert all("collapsed" in item.extra for item in codes.GENDER_IDENTITY)
    assert set(codes.RESIDENTIAL_SERVICES) == {
        "car_specialized_trafficking",
        "car_general",
        "ngo_shelter",
    }


def test_memoized_label_sentences_equal_fresh_ones_per_list_and_locale(monkeypatch):
    from caseapp.core import codes as code_lists

    monkeypatch.setattr(rules, "_LABELS_MEMO", {})
    first = rules._labels(["transport", "recruitment"], code_lists.ACT, "es")
    again = rules._labels({"recruitment", "transport"}, code_lists.ACT, "es")
    english = rules._labels({"recruitment", "transport"}, code_lists.ACT, "en")
    assert first == again and first != english
    assert first.startswith(code_lists.ACT.label("recruitment", "es")[:1].lower())
    monkeypatch.setattr(rules, "_LABELS_MEMO", {})
    assert rules._labels({"transport", "recruitment"}, code_lists.ACT, "es") == first
    rules._labels({"not-a-code"}, code_lists.ACT, "es")  # shown as is, never memoized
    assert all("not-a-code" not in key[1] for key in rules._LABELS_MEMO)
