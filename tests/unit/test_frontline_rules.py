"""Issue 14 (frontline corrections): one test per reported situation, named after it.

Uses the fixture directory and helpers of tests/unit/test_referral_rules.py, plus the
ACNUR offices of the spec's directory.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from caseapp.core import codes
from caseapp.directory.hours import LIMA
from caseapp.referrals.rules import (
    NEED_SERVICE_TYPES,
    ReferralPlan,
    mark_initial_reason,
    plan_referrals,
    reroute_reason,
)
from tests.unit.test_referral_rules import (
    COORDS,
    DIRECTORY,
    FOREIGN,
    LOR,
    TUM,
    boy,
    girl,
    lima,
    man,
    person,
    woman,
)

WITH_ACNUR = DIRECTORY  # the fixture directory has ACNUR-LIM and ACNUR-TUM


def _types(plan: ReferralPlan) -> dict[str, str | None]:
    return {p.service_type: p.provider.code if p.provider else None for p in plan.proposals}


# --- item 9: asylum seekers -> CEPR and ACNUR; Migraciones/IOM only when consent names them


def test_asylum_seeker_gets_cepr_and_acnur_not_migraciones_or_iom_automatically() -> None:
    facts = woman(
        extra=frozenset({"foreign", "asylum_seeker"}),
        nationality=("VEN",),
        region=TUM,
        consent_service_types=frozenset({"all"}),
    )
    got = _types(plan_referrals(facts, WITH_ACNUR, COORDS))
    assert got["refugee_cepr"] == "CEPR-LIM"
    assert got["unhcr"] == "ACNUR-TUM"
    assert "migration_migraciones" not in got
    assert "iom" not in got
    assert "consulate" not in got


def test_asylum_seeker_with_consent_naming_migraciones_and_iom_gets_them() -> None:
    facts = woman(
        extra=frozenset({"foreign", "asylum_seeker"}),
        nationality=("VEN",),
        region=TUM,
        consent_service_types=frozenset({"migration_migraciones", "iom", "consulate"}),
    )
    got = _types(plan_referrals(facts, WITH_ACNUR, COORDS))
    assert got["migration_migraciones"] == "MIGRA-TUM"
    assert got["iom"] == "OIM-TUM"
    assert {"refugee_cepr", "unhcr"} <= set(got)
    assert "consulate" not in got


def test_foreigner_not_seeking_asylum_gets_no_acnur() -> None:
    facts = woman(extra=frozenset({"foreign"}), nationality=("VEN",), region=TUM)
    got = _types(plan_referrals(facts, WITH_ACNUR, COORDS))
    assert got["migration_migraciones"] == "MIGRA-TUM" and got["iom"] == "OIM-TUM"
    assert "unhcr" not in got and "refugee_cepr" not in got


def test_acnur_offices_are_in_the_demo_directory_as_unhcr() -> None:
    from caseapp.core import codes
    from tests.unit.test_referral_rules import REAL_DIRECTORY

    assert "unhcr" in codes.SERVICE_TYPE
    acnur = {p.code for p in REAL_DIRECTORY if p.service_type == "unhcr"}
    assert acnur == {"ACNUR-LIM", "ACNUR-TUM", "ACNUR-TAC"}


# --- item 10: organ removal -> health referral and urgent medical care alert


def test_organ_removal_gets_a_health_referral_and_urgent_medical_care_alert() -> None:
    plan = plan_referrals(man(purposes=frozenset({"organ_removal"})), WITH_ACNUR, COORDS)
    health = plan.proposal_for("health_minsa")
    assert health is not None and health.provider is not None
    assert health.provider.code == "MINSA-MDD"
    assert any(
        "extracción de órganos" in r.es.lower() and "organ removal" in r.en.lower()
        for r in health.reasons
    )
    alert = next(a for a in plan.alerts if a.code == "urgent_medical_care")
    assert "urgente" in alert.es and "urgent" in alert.en


def test_organ_removal_child_also_gets_health_and_the_alert() -> None:
    plan = plan_referrals(girl(purposes=frozenset({"organ_removal"})), WITH_ACNUR, COORDS)
    assert plan.proposal_for("health_minsa") is not None
    assert "urgent_medical_care" in {a.code for a in plan.alerts}


# --- item 7: every recorded need yields a referral or a gap (E7)


def test_return_need_of_adult_peruvian_man_yields_gap_no_service_for_need() -> None:
    plan = plan_referrals(man(needs=frozenset({"return_assistance"})), WITH_ACNUR, COORDS)
    gap = next(g for g in plan.gaps if g.code == "no_service_for_need")
    assert "Retorno a su lugar de origen" in gap.es and "Return assistance" in gap.en
    assert gap.need == "return_assistance"


def test_return_need_of_foreigner_not_seeking_asylum_goes_to_iom() -> None:
    facts = man(
        extra=FOREIGN, nationality=("VEN",), region=TUM, needs=frozenset({"return_assistance"})
    )
    plan = plan_referrals(facts, WITH_ACNUR, COORDS)
    iom = plan.proposal_for("iom")
    assert iom is not None and iom.provider is not None and iom.provider.code == "OIM-TUM"
    assert any(r.code == "e7_return_assistance_iom" for r in iom.reasons)
    assert "no_service_for_need" not in {g.code for g in plan.gaps}


def test_return_need_of_asylum_seeker_yields_gap_not_iom() -> None:
    facts = man(
        extra=frozenset({"foreign", "asylum_seeker"}),
        nationality=("VEN",),
        region=TUM,
        needs=frozenset({"return_assistance"}),
    )
    plan = plan_referrals(facts, WITH_ACNUR, COORDS)
    assert plan.proposal_for("iom") is None
    assert [g.need for g in plan.gaps if g.code == "no_service_for_need"] == ["return_assistance"]


def test_two_unmet_needs_yield_two_gaps_each_naming_its_need() -> None:
    plan = plan_referrals(man(needs=frozenset({"education", "employment"})), WITH_ACNUR, COORDS)
    gaps = [g for g in plan.gaps if g.code == "no_service_for_need"]
    assert sorted(g.need or "" for g in gaps) == ["education", "employment"]
    assert any("Educación" in g.es for g in gaps) and any("Employment" in g.en for g in gaps)


@pytest.mark.parametrize("status", ["indicated", "possible", "not_indicated"])
@pytest.mark.parametrize("need", sorted(codes.NEED.codes))
@pytest.mark.parametrize("who", ["girl", "man", "woman"])
def test_every_recorded_need_yields_a_referral_or_a_gap(need: str, status: str, who: str) -> None:
    make = {"girl": girl, "man": man, "woman": woman}[who]
    plan = plan_referrals(make(status=status, needs=frozenset({need})), WITH_ACNUR, COORDS)
    met = {p.service_type for p in plan.proposals} & NEED_SERVICE_TYPES.get(need, frozenset())
    gap_for_need = any(g.need == need for g in plan.gaps)
    interpreter = need == "interpreter" and "interpreter_needed" in {a.code for a in plan.alerts}
    assert met or gap_for_need or interpreter, (need, status, who)


# --- item 8: the after-hours gap's next opening is counted from the referral's creation


def test_after_hours_gap_recorded_later_shows_next_opening_after_creation_not_in_the_past() -> None:
    identified = lima(14, 23)  # Saturday 14/03/2026 23:00, UPE-LOR closed
    created = datetime(2026, 12, 5, 10, 0, tzinfo=LIMA)  # recorded on Saturday 05/12/2026
    facts = replace(boy(region=LOR, at=identified), created_at=created)
    plan = plan_referrals(facts, WITH_ACNUR, COORDS)
    gap = next(g for g in plan.gaps if g.code == "after_hours_unavailable")
    assert gap.next_opening == datetime(2026, 12, 7, 8, 0, tzinfo=LIMA)
    # one date format in both languages (core/time.py lima_text), as on every page
    assert "lun 07/12/2026 08:00" in gap.es and "Mon 07/12/2026 08:00" in gap.en
    assert "16/03/2026" not in gap.es
    # the alert is still about the time of identification
    assert "child_not_in_police_station" in {a.code for a in plan.alerts}


def test_after_hours_gap_without_creation_time_counts_from_identification() -> None:
    plan = plan_referrals(boy(region=LOR, at=lima(14, 23)), WITH_ACNUR, COORDS)
    gap = next(g for g in plan.gaps if g.code == "after_hours_unavailable")
    assert gap.next_opening == lima(16, 8)


# --- item 5: a re-routed referral says where it goes and why


def test_reroute_after_upe_madre_de_dios_declines_names_both_upes_and_why() -> None:
    facts = person({"child", "female"}, sex="F")  # presumed child, Madre de Dios
    upe_mdd = next(p for p in DIRECTORY if p.code == "UPE-MDD")
    upe_cus = next(p for p in DIRECTORY if p.code == "UPE-CUS")
    reason = reroute_reason(facts, "mimp_upe", (upe_mdd,), "no_capacity", upe_cus)
    assert reason.code == "reroute_after_decline"
    assert "UPE-MDD" in reason.es and "Madre de Dios" in reason.es and "Sin vacantes" in reason.es
    assert "UPE-CUS" in reason.es and "Cusco" in reason.es and "más cercano" in reason.es
    assert "UPE-MDD" in reason.en and "No capacity" in reason.en
    assert "UPE-CUS" in reason.en and "Cusco" in reason.en and "nearest" in reason.en
    assert "de la región de identificación" not in reason.es.replace("a la región", "")


def test_reroute_with_no_provider_left_says_so() -> None:
    facts = person({"child", "female"}, sex="F")
    upe_mdd = next(p for p in DIRECTORY if p.code == "UPE-MDD")
    reason = reroute_reason(facts, "mimp_upe", (upe_mdd,), "unreachable", None)
    assert "ningún otro proveedor" in reason.es and "no other eligible provider" in reason.en


def test_initial_reasons_are_marked_once() -> None:
    original = {"code": "c1_child_upe", "es": "C1 — x", "en": "C1 — y"}
    marked = mark_initial_reason(original)
    assert marked["es"].startswith("Derivación inicial") and marked["en"].startswith("Initial")
    assert mark_initial_reason(marked) == marked
