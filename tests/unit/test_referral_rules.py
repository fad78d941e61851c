"""Referral rules (domain.md §3): one table row per legal situation, named by the situation.

Part 1 uses a small fixture directory built here, so each row shows exactly which provider
should win and why. Part 2 runs the same engine over the demo directory
(tests/data/directory.csv, a copy of the spec's), parsed by caseapp.directory.rules.
Part 3 states properties that must hold for any person and any directory (Hypothesis).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseapp.directory.geo import haversine_km, region_distance_km
from caseapp.directory.hours import LIMA, parse_hours
from caseapp.directory.rules import parse_directory_row, parse_region_coords
from caseapp.referrals.rules import (
    NEED_SERVICE_TYPES,
    RULE_VERSION,
    ProviderFacts,
    ReferralFacts,
    ReferralPlan,
    choose_provider,
    eligible,
    plan_referrals,
)

DATA = Path(__file__).resolve().parent.parent / "data"

ALWAYS = parse_hours("24/7")
OFFICE = parse_hours("mon-fri 08:00-17:00")

# Region capitals (regions.csv).
LIM, MDD, LOR, CUS, PUN, TUM, REG_LIMA = "1501", "17", "16", "08", "21", "24", "15"
COORDS = {
    LIM: (-12.0464, -77.0428),
    MDD: (-12.5933, -69.1891),
    LOR: (-3.7491, -73.2538),
    CUS: (-13.5320, -71.9675),
    PUN: (-15.8402, -70.0219),
    TUM: (-3.5669, -80.4515),
    REG_LIMA: (-11.1067, -77.6050),
}


def lima(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in March 2026, Lima. 11 = Wednesday, 14 = Saturday, 16 = Monday."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LIMA)


WEDNESDAY_10 = lima(11, 10)
WEDNESDAY_22 = lima(11, 22)
SATURDAY_23 = lima(14, 23)
MONDAY_08 = lima(16, 8)


def prov(code: str, service_type: str, region: str, **kw: object) -> ProviderFacts:
    kw.setdefault("hours", OFFICE)
    return ProviderFacts(code=code, name=code, service_type=service_type, region=region, **kw)  # type: ignore[arg-type]


def shelter(code: str, service_type: str, region: str, **kw: object) -> ProviderFacts:
    kw.setdefault("hours", ALWAYS)
    kw.setdefault("accepts_transgender", False)
    kw.setdefault("capacity", 10)
    return prov(code, service_type, region, **kw)


CHILDREN = {"min_age": 0, "max_age": 17}
ADULTS = {"min_age": 18, "max_age": 120}

DIRECTORY: tuple[ProviderFacts, ...] = (
    prov("UPE-MDD", "mimp_upe", MDD, **CHILDREN),
    prov("UPE-LOR", "mimp_upe", LOR, **CHILDREN),
    prov("UPE-LIM", "mimp_upe", LIM, hours=ALWAYS, **CHILDREN),
    prov("UPE-CUS", "mimp_upe", CUS, languages=("es", "qu"), **CHILDREN),
    prov("FIS-MDD", "prosecutor_trafficking", MDD),
    prov("FIS-LOR", "prosecutor_trafficking", LOR),
    prov("FIS-LIM", "prosecutor_trafficking", LIM),
    prov("FIS-CUS", "prosecutor_trafficking", CUS),
    shelter(
        "CARE-MDD",
        "car_specialized_trafficking",
        MDD,
        min_age=12,
        max_age=17,
        sexes="F",
        occupancy=5,
    ),
    shelter(
        "CARE-LIM",
        "car_specialized_trafficking",
        LIM,
        min_age=12,
        max_age=17,
        sexes="F",
        capacity=20,
        occupancy=20,
    ),
    shelter(
        "CARE-CUS",
        "car_specialized_trafficking",
        CUS,
        min_age=12,
        max_age=17,
        sexes="F",
        languages=("es", "qu"),
    ),
    shelter("CARG-MDD", "car_general", MDD, min_age=6, max_age=17, sexes="F"),
    shelter("CARG-LOR", "car_general", LOR, min_age=6, max_age=17),
    shelter("CARG-LIM-M", "car_general", LIM, min_age=6, max_age=17, sexes="M"),
    shelter("CARG-CUS", "car_general", CUS, min_age=6, max_age=17, languages=("es", "qu")),
    prov("CEM-MDD", "cem", MDD),
    prov("CEM-LIM", "cem", LIM, hours=ALWAYS),
    prov("CEM-CUS", "cem", CUS),
    prov("UDAVIT-MDD", "udavit", MDD),
    prov("UDAVIT-LIM", "udavit", LIM),
    prov("UDAVIT-TUM", "udavit", TUM),
    prov("MINJUS-MDD", "legal_aid_minjusdh", MDD),
    prov("MINJUS-LIM", "legal_aid_minjusdh", LIM),
    prov("MINJUS-TUM", "legal_aid_minjusdh", TUM),
    prov("MINJUS-CUS", "legal_aid_minjusdh", CUS),
    prov("MINSA-MDD", "health_minsa", MDD, hours=ALWAYS),
    prov("MINSA-LIM", "health_minsa", LIM, hours=ALWAYS),
    prov("SUNAFIL-MDD", "labor_inspection_sunafil", MDD),
    prov("MIGRA-MDD", "migration_migraciones", MDD),
    prov("MIGRA-LIM", "migration_migraciones", LIM),
    prov("MIGRA-TUM", "migration_migraciones", TUM),
    prov("OIM-LIM", "iom", LIM),
    prov("OIM-TUM", "iom", TUM),
    prov("CEPR-LIM", "refugee_cepr", LIM),
    prov("ACNUR-LIM", "unhcr", LIM, serves=frozenset({"asylum_seeker"})),
    prov("ACNUR-TUM", "unhcr", TUM, serves=frozenset({"asylum_seeker"})),
    prov("CONS-VEN", "consulate", LIM, nationalities=("VEN",)),
    prov("CONS-COL", "consulate", LIM, nationalities=("COL",)),
    shelter("ONG-REF-LIM-W", "ngo_shelter", LIM, sexes="F", **ADULTS),
    shelter(
        "ONG-REF-LIM-D",
        "ngo_shelter",
        LIM,
        accepts_transgender=True,
        serves=frozenset({"lgbtqi"}),
        capacity=6,
        **ADULTS,
    ),
    shelter("ONG-REF-LIM-M", "ngo_shelter", LIM, sexes="M", capacity=4, **ADULTS),
    shelter("ONG-REF-CUS-W", "ngo_shelter", CUS, sexes="F", languages=("es", "qu"), **ADULTS),
    shelter("ONG-REF-TUM-W", "ngo_shelter", TUM, sexes="F", **ADULTS),
    prov("ONG-SERV-LIM", "ngo_services", LIM),
)


def person(
    tags: set[str],
    *,
    status: str = "indicated",
    region: str = MDD,
    at: datetime = WEDNESDAY_10,
    **kw: object,
) -> ReferralFacts:
    kw.setdefault("nationality", ("PER",))
    kw.setdefault("languages", ("es",))
    return ReferralFacts(
        status=status,
        tags=frozenset(tags),
        identified_at=at,
        region=region,
        **kw,  # type: ignore[arg-type]
    )


def girl(age: int = 16, **kw: object) -> ReferralFacts:
    return person({"child", "female"}, age_years=age, sex="F", **kw)


def boy(age: int = 15, **kw: object) -> ReferralFacts:
    return person({"child", "male"}, age_years=age, sex="M", **kw)


def woman(age: int = 30, extra: frozenset[str] = frozenset(), **kw: object) -> ReferralFacts:
    return person({"adult", "female", *extra}, age_years=age, sex="F", **kw)


def man(age: int = 35, extra: frozenset[str] = frozenset(), **kw: object) -> ReferralFacts:
    return person({"adult", "male", *extra}, age_years=age, sex="M", **kw)


SEXUAL = frozenset({"sexual_exploitation"})
FORCED_LABOUR = frozenset({"forced_labour"})
FOREIGN = frozenset({"foreign"})


@dataclass(frozen=True)
class Row:
    """One situation: the referrals expected as {service_type: (priority, provider code)}.

    ``proposals`` is the complete set unless ``only`` lists the types to check; gap and
    alert codes are always the complete sets.
    """

    situation: str
    facts: ReferralFacts
    proposals: dict[str, tuple[str, str | None]]
    gaps: frozenset[str] = frozenset()
    alerts: frozenset[str] = frozenset()
    only: bool = False
    directory: tuple[ProviderFacts, ...] = field(default=DIRECTORY)


M, R = "mandatory", "recommended"
CHILD_BASE = {"mimp_upe": (M, "UPE-MDD"), "prosecutor_trafficking": (M, "FIS-MDD")}
ADULT_BASE_MDD = {
    "legal_aid_minjusdh": (R, "MINJUS-MDD"),
    "prosecutor_trafficking": (R, "FIS-MDD"),
}

ROWS: list[Row] = [
    # ---------------------------------------------------------------- children (C1–C5)
    Row(
        "girl 16 sexual exploitation in Madre de Dios -> UPE mandatory, specialised CAR",
        girl(purposes=SEXUAL),
        {
            **CHILD_BASE,
            "car_specialized_trafficking": (R, "CARE-MDD"),
            "health_minsa": (R, "MINSA-MDD"),
        },
    ),
    Row(
        "girl 16 forced labour -> general CAR (specialised CAR is for sexual purposes)",
        girl(purposes=FORCED_LABOUR),
        {
            **CHILD_BASE,
            "car_general": (R, "CARG-MDD"),
            "labor_inspection_sunafil": (R, "SUNAFIL-MDD"),
        },
    ),
    Row(
        "girl 10 sexual exploitation -> specialised CARs take 12-17: gap no_provider_for_profile",
        girl(age=10, purposes=SEXUAL),
        {
            **CHILD_BASE,
            "car_specialized_trafficking": (R, None),
            "health_minsa": (R, "MINSA-MDD"),
        },
        gaps=frozenset({"no_provider_for_profile"}),
    ),
    Row(
        "boy 15 sexual exploitation in Madre de Dios -> nearest general CAR taking boys "
        "(Cusco), gap no_specialized_shelter_boys",
        boy(purposes=SEXUAL),
        {
            **CHILD_BASE,
            "car_general": (R, "CARG-CUS"),
            "health_minsa": (R, "MINSA-MDD"),
        },
        gaps=frozenset({"no_specialized_shelter_boys"}),
    ),
    Row(
        "possible (not indicated) child still gets C1 and C2",
        girl(status="possible", purposes=frozenset()),
        {**CHILD_BASE, "car_general": (R, "CARG-MDD")},
    ),
    Row(
        "child identified Saturday 23:00 in Loreto -> UPE closed, alert "
        "child_not_in_police_station, after_hours gap with Monday 08:00",
        boy(region=LOR, at=SATURDAY_23, purposes=FORCED_LABOUR),
        {
            "mimp_upe": (M, "UPE-LOR"),
            "prosecutor_trafficking": (M, "FIS-LOR"),
            "car_general": (R, "CARG-LOR"),
            "labor_inspection_sunafil": (R, "SUNAFIL-MDD"),
        },
        gaps=frozenset({"after_hours_unavailable", "no_specialized_shelter_boys"}),
        alerts=frozenset({"child_not_in_police_station"}),
    ),
    Row(
        "child identified at 22:00 in Lima -> UPE open 24/7: no C5 alert",
        girl(region=LIM, at=WEDNESDAY_22, purposes=SEXUAL),
        {
            "mimp_upe": (M, "UPE-LIM"),
            "prosecutor_trafficking": (M, "FIS-LIM"),
            "car_specialized_trafficking": (R, "CARE-CUS"),  # CARE-LIM is full
            "health_minsa": (R, "MINSA-LIM"),
        },
    ),
    Row(
        "unaccompanied Venezuelan girl -> C4 Migraciones and IOM, no consulate without consent",
        person(
            {"child", "female", "foreign", "unaccompanied"},
            age_years=14,
            sex="F",
            nationality=("VEN",),
            region=TUM,
            purposes=FORCED_LABOUR,
        ),
        {
            "mimp_upe": (M, "UPE-LOR"),
            "prosecutor_trafficking": (M, "FIS-LOR"),
            "car_general": (R, "CARG-LOR"),
            "migration_migraciones": (R, "MIGRA-TUM"),
            "iom": (R, "OIM-TUM"),
            "labor_inspection_sunafil": (R, "SUNAFIL-MDD"),
        },
    ),
    Row(
        "unaccompanied asylum-seeking child with consulate consent -> CEPR, never consulate",
        person(
            {"child", "male", "foreign", "unaccompanied", "asylum_seeker"},
            age_years=16,
            sex="M",
            nationality=("COL",),
            region=LIM,
            consent_service_types=frozenset({"consulate"}),
        ),
        {
            "mimp_upe": (M, "UPE-LIM"),
            "prosecutor_trafficking": (M, "FIS-LIM"),
            "car_general": (R, "CARG-LIM-M"),
            "migration_migraciones": (R, "MIGRA-LIM"),  # C4 (unaccompanied child)
            "iom": (R, "OIM-LIM"),  # C4
            "refugee_cepr": (R, "CEPR-LIM"),
            "unhcr": (R, "ACNUR-LIM"),
        },
        gaps=frozenset({"no_specialized_shelter_boys"}),
    ),
    Row(
        "presumed child of unknown age -> C1, C2 and a CAR whose range overlaps 0-17",
        person({"child", "female"}, sex="F", purposes=FORCED_LABOUR),
        {
            **CHILD_BASE,
            "car_general": (R, "CARG-MDD"),
            "labor_inspection_sunafil": (R, "SUNAFIL-MDD"),
        },
    ),
    Row(
        "trans girl 16 (trans_feminine) -> no CAR accepts transgender children: gap",
        person(
            {"child", "male", "lgbtqi"},
            age_years=16,
            sex="M",
            gender_identity="trans_feminine",
            purposes=SEXUAL,
        ),
        {**CHILD_BASE, "car_specialized_trafficking": (R, None), "health_minsa": (R, "MINSA-MDD")},
        gaps=frozenset({"no_provider_for_profile"}),
    ),
    Row(
        "not-indicated child with a shelter need -> only the residential rule, with consent",
        girl(status="not_indicated", needs=frozenset({"shelter"})),
        {"car_general": (R, "CARG-MDD")},
    ),
    # ------------------------------------------------------------------- adults (A1–A3)
    Row(
        "adult woman, sexual exploitation, no needs -> legal aid, prosecutor, CEM, health",
        woman(purposes=SEXUAL),
        {**ADULT_BASE_MDD, "cem": (R, "CEM-MDD"), "health_minsa": (R, "MINSA-MDD")},
    ),
    Row(
        "adult man forced labour -> legal aid, prosecutor, SUNAFIL; no CEM",
        man(purposes=FORCED_LABOUR),
        {**ADULT_BASE_MDD, "labor_inspection_sunafil": (R, "SUNAFIL-MDD")},
    ),
    Row(
        "adult man needing shelter -> gap no_state_shelter_adult_men then NGO shelter",
        man(needs=frozenset({"shelter"})),
        {**ADULT_BASE_MDD, "ngo_shelter": (R, "ONG-REF-LIM-M")},
        gaps=frozenset({"no_state_shelter_adult_men"}),
    ),
    Row(
        "adult man needing shelter, men's NGO shelter full -> gaps no_state_shelter_adult_men "
        "and capacity_full",
        man(needs=frozenset({"shelter"})),
        {"ngo_shelter": (R, None)},
        gaps=frozenset({"no_state_shelter_adult_men", "capacity_full"}),
        only=True,
        directory=tuple(
            replace(p, occupancy=4) if p.code == "ONG-REF-LIM-M" else p for p in DIRECTORY
        ),
    ),
    Row(
        "adult man needing shelter, no NGO shelter takes men -> no_provider_for_profile",
        man(needs=frozenset({"shelter"})),
        {"ngo_shelter": (R, None)},
        gaps=frozenset({"no_state_shelter_adult_men", "no_provider_for_profile"}),
        only=True,
        directory=tuple(p for p in DIRECTORY if p.code != "ONG-REF-LIM-M"),
    ),
    Row(
        "gay adult man needing shelter -> nearest shelter taking men or lgbtqi people",
        man(extra=frozenset({"lgbtqi"}), needs=frozenset({"shelter"}), region=CUS),
        {
            "legal_aid_minjusdh": (R, "MINJUS-CUS"),
            "prosecutor_trafficking": (R, "FIS-CUS"),
            # Both Lima shelters take him and tie on distance, hours, language and
            # occupancy: the code decides.
            "ngo_shelter": (R, "ONG-REF-LIM-D"),
        },
        gaps=frozenset({"no_state_shelter_adult_men"}),
    ),
    Row(
        "adult woman needing shelter in Cusco -> Quechua-speaking NGO shelter in the region",
        woman(needs=frozenset({"shelter"}), region=CUS, languages=("qu", "es")),
        {
            "legal_aid_minjusdh": (R, "MINJUS-CUS"),
            "prosecutor_trafficking": (R, "FIS-CUS"),
            "cem": (R, "CEM-CUS"),
            "ngo_shelter": (R, "ONG-REF-CUS-W"),
        },
    ),
    Row(
        "adult woman needing shelter in Madre de Dios -> nearest women's shelter (Cusco)",
        woman(needs=frozenset({"shelter"})),
        {**ADULT_BASE_MDD, "cem": (R, "CEM-MDD"), "ngo_shelter": (R, "ONG-REF-CUS-W")},
    ),
    Row(
        "trans woman needing shelter in Cusco -> gap no_shelter_accepting_transgender, "
        "nearest accepting shelter in Lima still proposed",
        person(
            {"adult", "male", "lgbtqi"},
            age_years=24,
            sex="M",
            gender_identity="trans_feminine",
            needs=frozenset({"shelter"}),
            region=CUS,
        ),
        {
            "legal_aid_minjusdh": (R, "MINJUS-CUS"),
            "prosecutor_trafficking": (R, "FIS-CUS"),
            "cem": (R, "CEM-CUS"),
            "ngo_shelter": (R, "ONG-REF-LIM-D"),
        },
        gaps=frozenset({"no_shelter_accepting_transgender"}),
    ),
    Row(
        "trans woman needing shelter in Lima -> accepting shelter in the region, no gap",
        person(
            {"adult", "male", "lgbtqi"},
            age_years=24,
            sex="M",
            gender_identity="trans_feminine",
            needs=frozenset({"shelter"}),
            region=LIM,
        ),
        {"ngo_shelter": (R, "ONG-REF-LIM-D")},
        only=True,
    ),
    Row(
        "non-binary adult needing shelter, no shelter accepts transgender people -> both gaps",
        person(
            {"adult", "female", "lgbtqi"},
            age_years=30,
            sex="F",
            gender_identity="non_conforming",
            needs=frozenset({"shelter"}),
        ),
        {"ngo_shelter": (R, None)},
        gaps=frozenset({"no_shelter_accepting_transgender", "no_provider_for_profile"}),
        only=True,
        directory=tuple(p for p in DIRECTORY if p.code != "ONG-REF-LIM-D"),
    ),
    Row(
        "person of unknown age -> adult rules (legal aid, prosecutor), adult shelter",
        person({"age_unknown", "female"}, sex="F", needs=frozenset({"shelter"})),
        {**ADULT_BASE_MDD, "cem": (R, "CEM-MDD"), "ngo_shelter": (R, "ONG-REF-CUS-W")},
    ),
    # ---------------------------------------------------------------- everyone (E1–E6)
    Row(
        "adult woman found in a police operation -> UDAVIT (not conditional on testimony)",
        woman(identification_context="police_operation"),
        {**ADULT_BASE_MDD, "cem": (R, "CEM-MDD"), "udavit": (R, "UDAVIT-MDD")},
    ),
    Row(
        "adult man with an open prosecutor investigation -> UDAVIT",
        man(identification_context="prosecutor_investigation"),
        {**ADULT_BASE_MDD, "udavit": (R, "UDAVIT-MDD")},
    ),
    Row(
        "hotline identification -> no UDAVIT",
        man(identification_context="hotline"),
        ADULT_BASE_MDD,
    ),
    Row(
        "asylum-seeking Venezuelan woman -> CEPR and ACNUR, never consulate (even with "
        "explicit consent), no Migraciones or IOM under consent 'all'",
        woman(
            extra=frozenset({"foreign", "asylum_seeker"}),
            nationality=("VEN",),
            region=TUM,
            consent_service_types=frozenset({"all", "consulate"}),
        ),
        {
            "legal_aid_minjusdh": (R, "MINJUS-TUM"),
            "prosecutor_trafficking": (R, "FIS-LOR"),  # Iquitos is nearer Tumbes than Lima
            "cem": (R, "CEM-LIM"),
            "refugee_cepr": (R, "CEPR-LIM"),
            "unhcr": (R, "ACNUR-TUM"),
        },
    ),
    Row(
        "Venezuelan woman with explicit consent to her consulate -> her consulate",
        woman(
            extra=FOREIGN,
            nationality=("VEN",),
            region=TUM,
            consent_service_types=frozenset({"consulate"}),
        ),
        {"consulate": (R, "CONS-VEN"), "refugee_cepr": None},  # type: ignore[dict-item]
        only=True,
    ),
    Row(
        "Venezuelan woman with consent scope 'all' -> no consulate (not explicit)",
        woman(
            extra=FOREIGN,
            nationality=("VEN",),
            region=TUM,
            consent_service_types=frozenset({"all"}),
        ),
        {
            "legal_aid_minjusdh": (R, "MINJUS-TUM"),
            "prosecutor_trafficking": (R, "FIS-LOR"),  # Iquitos is nearer Tumbes than Lima
            "cem": (R, "CEM-LIM"),
            "migration_migraciones": (R, "MIGRA-TUM"),
            "iom": (R, "OIM-TUM"),
        },
    ),
    Row(
        "Chilean man consenting to his consulate, none in the directory -> no_provider_for_profile",
        man(extra=FOREIGN, nationality=("CHL",), consent_service_types=frozenset({"consulate"})),
        {"consulate": (R, None)},
        gaps=frozenset({"no_provider_for_profile"}),
        only=True,
    ),
    Row(
        "foreign man of unknown nationality seeking asylum -> E2 still applies, CEPR, ACNUR",
        person({"adult", "male", "asylum_seeker"}, age_years=40, sex="M", nationality=()),
        {
            **ADULT_BASE_MDD,
            "refugee_cepr": (R, "CEPR-LIM"),
            "unhcr": (R, "ACNUR-LIM"),
        },
    ),
    Row(
        "begging -> labour inspection (E3 includes begging)",
        man(purposes=frozenset({"begging"})),
        {**ADULT_BASE_MDD, "labor_inspection_sunafil": (R, "SUNAFIL-MDD")},
    ),
    Row(
        "labour purpose where no SUNAFIL office exists -> gap no_provider_in_region",
        man(purposes=FORCED_LABOUR),
        {"labor_inspection_sunafil": (R, None)},
        gaps=frozenset({"no_provider_in_region"}),
        only=True,
        directory=tuple(p for p in DIRECTORY if p.service_type != "labor_inspection_sunafil"),
    ),
    Row(
        "pregnant woman -> health (E4)",
        woman(pregnant=True),
        {**ADULT_BASE_MDD, "cem": (R, "CEM-MDD"), "health_minsa": (R, "MINSA-MDD")},
    ),
    Row(
        "organ removal -> health (E4) and alert urgent_medical_care",
        man(purposes=frozenset({"organ_removal"})),
        {**ADULT_BASE_MDD, "health_minsa": (R, "MINSA-MDD")},
        alerts=frozenset({"urgent_medical_care"}),
    ),
    Row(
        "physical abuse indicator -> health (E4)",
        man(indicators=frozenset({"physical_abuse"})),
        {**ADULT_BASE_MDD, "health_minsa": (R, "MINSA-MDD")},
    ),
    Row(
        "Quechua-only speaker -> interpreter alert on every referral (E5)",
        woman(extra=frozenset({"indigenous_language"}), languages=("qu",), region=CUS),
        {
            "legal_aid_minjusdh": (R, "MINJUS-CUS"),
            "prosecutor_trafficking": (R, "FIS-CUS"),
            "cem": (R, "CEM-CUS"),
        },
        alerts=frozenset({"interpreter_needed"}),
    ),
    Row(
        "adult man with psychological need -> NGO services (E6)",
        man(needs=frozenset({"psychological"})),
        {**ADULT_BASE_MDD, "ngo_services": (R, "ONG-SERV-LIM")},
    ),
    Row(
        "adult woman with psychological need -> CEM once (A2 and E6 merged)",
        woman(needs=frozenset({"psychological"})),
        {**ADULT_BASE_MDD, "cem": (R, "CEM-MDD")},
    ),
    Row(
        "child with psychological need -> CEM coordinated through the UPE (E6)",
        girl(needs=frozenset({"psychological"})),
        {**CHILD_BASE, "car_general": (R, "CARG-MDD"), "cem": (R, "CEM-MDD")},
    ),
    Row(
        "adult Peruvian man needing return to his place of origin -> gap no_service_for_need (E7)",
        man(needs=frozenset({"return_assistance"})),
        ADULT_BASE_MDD,
        gaps=frozenset({"no_service_for_need"}),
    ),
    Row(
        "Venezuelan man needing return, no asylum claim -> IOM (E7)",
        man(extra=FOREIGN, nationality=("VEN",), needs=frozenset({"return_assistance"})),
        {
            **ADULT_BASE_MDD,
            "migration_migraciones": (R, "MIGRA-MDD"),
            "iom": (R, "OIM-LIM"),
        },
    ),
    Row(
        "not indicated woman with a legal need -> public legal aid (E7)",
        woman(status="not_indicated", needs=frozenset({"legal"})),
        {"legal_aid_minjusdh": (R, "MINJUS-MDD")},
    ),
    # ------------------------------------------------------------------- not indicated
    Row(
        "not indicated, no needs -> no referrals at all",
        woman(status="not_indicated", purposes=SEXUAL, identification_context="police_operation"),
        {},
    ),
    Row(
        "not indicated, medical need only -> only health (E4 by need, not by purpose)",
        man(status="not_indicated", needs=frozenset({"medical"})),
        {"health_minsa": (R, "MINSA-MDD")},
    ),
    Row(
        "not indicated woman needing shelter and psychological care -> A3 and E6 only",
        woman(status="not_indicated", needs=frozenset({"shelter", "psychological"})),
        {"ngo_shelter": (R, "ONG-REF-CUS-W"), "cem": (R, "CEM-MDD")},
    ),
    Row(
        "not indicated with an interpreter need -> alert only, no referrals",
        man(status="not_indicated", needs=frozenset({"interpreter"}), languages=("ay",)),
        {},
        alerts=frozenset({"interpreter_needed"}),
    ),
]


def _summary(plan: ReferralPlan) -> dict[str, tuple[str, str | None]]:
    return {
        p.service_type: (p.priority, p.provider.code if p.provider else None)
        for p in plan.proposals
    }


@pytest.mark.parametrize("row", ROWS, ids=[r.situation for r in ROWS])
def test_referral_table(row: Row) -> None:
    plan = plan_referrals(row.facts, row.directory, COORDS)
    got = _summary(plan)
    if row.only:
        assert {k: got.get(k) for k in row.proposals} == row.proposals
    else:
        assert got == row.proposals
    assert {g.code for g in plan.gaps} == row.gaps
    assert {a.code for a in plan.alerts} == row.alerts
    assert plan.rule_version == RULE_VERSION == "2026.3"
    assert len({p.service_type for p in plan.proposals}) == len(plan.proposals)


# --- details the table does not show --------------------------------------------------


def test_c5_gap_carries_monday_opening_and_upe_keeps_provider_and_due_time() -> None:
    plan = plan_referrals(boy(region=LOR, at=SATURDAY_23), DIRECTORY, COORDS)
    gap = next(g for g in plan.gaps if g.code == "after_hours_unavailable")
    assert gap.service_type == "mimp_upe"
    assert gap.next_opening == MONDAY_08
    upe = plan.proposal_for("mimp_upe")
    assert upe is not None and upe.provider is not None and upe.provider.code == "UPE-LOR"
    assert upe.due_at == SATURDAY_23 + timedelta(hours=24)
    assert upe.gap == gap
    alert = next(a for a in plan.alerts if a.code == "child_not_in_police_station")
    assert "comisaría" in alert.es and "police station" in alert.en


def test_c5_residential_referral_prefers_24_7_providers() -> None:
    office_car = shelter("CARG-A-OFFICE", "car_general", LOR, hours=OFFICE, min_age=6, max_age=17)
    night_car = shelter("CARG-Z-NIGHT", "car_general", LOR, min_age=6, max_age=17)
    directory = (prov("UPE-LOR", "mimp_upe", LOR, **CHILDREN), office_car, night_car)
    # Saturday 23:00: UPE closed, so the 24/7 CAR wins although its code sorts last.
    night = plan_referrals(boy(region=LOR, at=SATURDAY_23), directory, COORDS)
    assert _summary(night)["car_general"] == (R, "CARG-Z-NIGHT")
    # Wednesday 10:00: UPE open, office hours: the tie falls to the code.
    day = plan_referrals(boy(region=LOR, at=WEDNESDAY_10), directory, COORDS)
    assert _summary(day)["car_general"] == (R, "CARG-A-OFFICE")


@pytest.mark.parametrize(
    ("situation", "facts", "consent_free"),
    [
        (
            "child: C1 and C2 need no consent, the rest need the representative's or UPE's",
            girl(purposes=SEXUAL, identification_context="police_operation"),
            {"mimp_upe", "prosecutor_trafficking"},
        ),
        (
            "adult: every referral needs consent",
            woman(purposes=SEXUAL, needs=frozenset({"shelter"})),
            set(),
        ),
        (
            "person of unknown age: adult rules, every referral needs consent",
            person({"age_unknown", "male"}, sex="M"),
            set(),
        ),
    ],
)
def test_consent(situation: str, facts: ReferralFacts, consent_free: set[str]) -> None:
    plan = plan_referrals(facts, DIRECTORY, COORDS)
    assert plan.proposals, situation
    for p in plan.proposals:
        assert p.requires_consent is (p.service_type not in consent_free), p.service_type


def test_due_times_are_24h_mandatory_and_72h_recommended_from_identification() -> None:
    plan = plan_referrals(girl(purposes=SEXUAL), DIRECTORY, COORDS)
    for p in plan.proposals:
        hours = 24 if p.priority == "mandatory" else 72
        assert p.due_at == WEDNESDAY_10 + timedelta(hours=hours)


def test_interpreter_language_is_the_first_non_spanish_language_on_every_referral() -> None:
    facts = girl(languages=("es", "qu", "ay"), needs=frozenset({"interpreter", "psychological"}))
    plan = plan_referrals(facts, DIRECTORY, COORDS)
    assert {p.interpreter_language for p in plan.proposals} == {"qu"}
    assert any(p.service_type == "cem" for p in plan.proposals)  # E6's referral too
    alert = next(a for a in plan.alerts if a.code == "interpreter_needed")
    assert "Quechua" in alert.es and "Quechua" in alert.en


def test_no_interpreter_language_without_the_trigger() -> None:
    plan = plan_referrals(girl(languages=("es", "qu")), DIRECTORY, COORDS)
    assert {p.interpreter_language for p in plan.proposals} == {None}
    assert not plan.alerts


def test_reasons_name_the_rule_and_the_profile_in_both_languages() -> None:
    plan = plan_referrals(girl(purposes=SEXUAL), DIRECTORY, COORDS)
    car = plan.proposal_for("car_specialized_trafficking")
    assert car is not None
    (reason,) = car.reasons
    assert reason.es.startswith("C3") and reason.en.startswith("C3")
    assert "explotación sexual" in reason.es and "sexual exploitation" in reason.en
    assert "16" in plan.proposals[0].reasons[0].es


def test_udavit_reason_states_assistance_is_not_conditional_on_testimony() -> None:
    plan = plan_referrals(man(identification_context="police_operation"), DIRECTORY, COORDS)
    udavit = plan.proposal_for("udavit")
    assert udavit is not None
    assert "no están condicionadas" in udavit.reasons[0].es
    assert "not conditional on the victim testifying" in udavit.reasons[0].en


def test_merged_proposal_keeps_both_rules_reasons() -> None:
    plan = plan_referrals(woman(needs=frozenset({"psychological"})), DIRECTORY, COORDS)
    cem = plan.proposal_for("cem")
    assert cem is not None and cem.rule == "A2"
    assert [r.code for r in cem.reasons] == ["a2_adult_woman_cem", "e6_psychological_cem"]


def test_plan_serializes_to_the_api_shape() -> None:
    plan = plan_referrals(boy(region=LOR, at=SATURDAY_23), DIRECTORY, COORDS).as_dict()
    assert plan["rule_version"] == "2026.3"
    first = plan["proposals"][0]  # type: ignore[index]
    assert first["provider"] == {"code": "UPE-LOR", "name": "UPE-LOR", "region": LOR}
    assert first["due_at"] == "2026-03-15T23:00:00-05:00"
    gap = next(g for g in plan["gaps"] if g["code"] == "after_hours_unavailable")  # type: ignore[union-attr]
    assert gap["next_opening"] == "2026-03-16T08:00:00-05:00"


# --- provider choice: eligibility, ranking, gaps, re-routing ---------------------------


@dataclass(frozen=True)
class ChoiceRow:
    situation: str
    service_type: str
    facts: ReferralFacts
    directory: tuple[ProviderFacts, ...]
    expected: str  # provider code, or "gap:<code>"
    exclude: frozenset[str] = frozenset()
    prefer_24_7: bool = False


def _two(a: ProviderFacts, b: ProviderFacts) -> tuple[ProviderFacts, ...]:
    return (a, b)


CHOICES: list[ChoiceRow] = [
    ChoiceRow(
        "same region beats a nearer-sounding code elsewhere",
        "cem",
        woman(region=CUS),
        _two(prov("A-CEM-LIM", "cem", LIM), prov("Z-CEM-CUS", "cem", CUS)),
        "Z-CEM-CUS",
    ),
    ChoiceRow(
        "none in the region -> nearest by great-circle distance (Puno: Cusco before Lima)",
        "cem",
        woman(region=PUN),
        _two(prov("A-CEM-LIM", "cem", LIM), prov("Z-CEM-CUS", "cem", CUS)),
        "Z-CEM-CUS",
    ),
    ChoiceRow(
        "Región Lima (Huacho) has no UPE -> Lima Metropolitana's",
        "mimp_upe",
        girl(region=REG_LIMA),
        _two(prov("UPE-CUS", "mimp_upe", CUS), prov("UPE-LIM", "mimp_upe", LIM)),
        "UPE-LIM",
    ),
    ChoiceRow(
        "tie, identified out of hours -> 24/7 provider first",
        "cem",
        woman(at=WEDNESDAY_22),
        _two(prov("A-OFFICE", "cem", MDD), prov("Z-NIGHT", "cem", MDD, hours=ALWAYS)),
        "Z-NIGHT",
    ),
    ChoiceRow(
        "tie, identified in office hours -> 24/7 does not matter, code decides",
        "cem",
        woman(at=WEDNESDAY_10),
        _two(prov("A-OFFICE", "cem", MDD), prov("Z-NIGHT", "cem", MDD, hours=ALWAYS)),
        "A-OFFICE",
    ),
    ChoiceRow(
        "tie in office hours with prefer_24_7 -> 24/7 provider first",
        "cem",
        woman(at=WEDNESDAY_10),
        _two(prov("A-OFFICE", "cem", MDD), prov("Z-NIGHT", "cem", MDD, hours=ALWAYS)),
        "Z-NIGHT",
        prefer_24_7=True,
    ),
    ChoiceRow(
        "24/7 outranks a shared language when identified out of hours",
        "cem",
        woman(at=SATURDAY_23, languages=("qu",)),
        _two(
            prov("A-QUECHUA", "cem", MDD, languages=("es", "qu")),
            prov("Z-NIGHT", "cem", MDD, hours=ALWAYS),
        ),
        "Z-NIGHT",
    ),
    ChoiceRow(
        "tie -> a shared language first",
        "cem",
        woman(languages=("qu", "es")),
        _two(prov("A-SPANISH", "cem", MDD), prov("Z-QUECHUA", "cem", MDD, languages=("es", "qu"))),
        "Z-QUECHUA",
    ),
    ChoiceRow(
        "shared language outranks occupancy",
        "ngo_shelter",
        woman(languages=("qu",)),
        _two(
            shelter("A-EMPTY", "ngo_shelter", MDD, sexes="F", occupancy=0, **ADULTS),
            shelter(
                "Z-QU", "ngo_shelter", MDD, sexes="F", occupancy=9, languages=("es", "qu"), **ADULTS
            ),
        ),
        "Z-QU",
    ),
    ChoiceRow(
        "tie -> lowest occupancy first",
        "ngo_shelter",
        woman(),
        _two(
            shelter("A-BUSY", "ngo_shelter", MDD, sexes="F", occupancy=8, **ADULTS),
            shelter("Z-QUIET", "ngo_shelter", MDD, sexes="F", occupancy=1, **ADULTS),
        ),
        "Z-QUIET",
    ),
    ChoiceRow(
        "full tie -> code",
        "cem",
        woman(),
        _two(prov("CEM-B", "cem", MDD), prov("CEM-A", "cem", MDD)),
        "CEM-A",
    ),
    ChoiceRow(
        "full shelter in the region is skipped for a free one elsewhere",
        "ngo_shelter",
        woman(),
        _two(
            shelter("A-FULL", "ngo_shelter", MDD, sexes="F", capacity=5, occupancy=5, **ADULTS),
            shelter("Z-FREE", "ngo_shelter", LIM, sexes="F", **ADULTS),
        ),
        "Z-FREE",
    ),
    ChoiceRow(
        "every accepting shelter full -> gap capacity_full",
        "ngo_shelter",
        woman(),
        _two(
            shelter("A-FULL", "ngo_shelter", MDD, sexes="F", capacity=5, occupancy=5, **ADULTS),
            shelter("Z-MEN", "ngo_shelter", MDD, sexes="M", **ADULTS),
        ),
        "gap:capacity_full",
    ),
    ChoiceRow(
        "capacity only counts for residential services",
        "cem",
        woman(),
        (prov("CEM-X", "cem", MDD, capacity=1, occupancy=5),),
        "CEM-X",
    ),
    ChoiceRow(
        "inactive provider is never proposed -> gap no_provider_in_region",
        "cem",
        woman(),
        (prov("CEM-X", "cem", MDD, is_active=False),),
        "gap:no_provider_in_region",
    ),
    ChoiceRow(
        "no provider of the type anywhere -> gap no_provider_in_region",
        "iom",
        woman(),
        (prov("CEM-X", "cem", MDD),),
        "gap:no_provider_in_region",
    ),
    ChoiceRow(
        "providers exist but none takes the profile -> gap no_provider_for_profile",
        "ngo_shelter",
        woman(age=17),
        (shelter("ADULTS-ONLY", "ngo_shelter", MDD, sexes="F", **ADULTS),),
        "gap:no_provider_for_profile",
    ),
    ChoiceRow(
        "foreigner, provider does not accept foreigners -> next one",
        "cem",
        woman(extra=FOREIGN, nationality=("BOL",)),
        _two(prov("A-NATIONALS", "cem", MDD, accepts_foreign=False), prov("Z-ALL", "cem", LIM)),
        "Z-ALL",
    ),
    ChoiceRow(
        "provider dedicated to lgbtqi people does not take others",
        "ngo_shelter",
        woman(),
        _two(
            shelter("A-DIVERSE", "ngo_shelter", MDD, serves=frozenset({"lgbtqi"}), **ADULTS),
            shelter("Z-WOMEN", "ngo_shelter", LIM, sexes="F", **ADULTS),
        ),
        "Z-WOMEN",
    ),
    ChoiceRow(
        "trans man uses M for residential eligibility",
        "ngo_shelter",
        person(
            {"adult", "female", "lgbtqi"}, age_years=30, sex="F", gender_identity="trans_masculine"
        ),
        _two(
            shelter("A-WOMEN", "ngo_shelter", MDD, sexes="F", accepts_transgender=True, **ADULTS),
            shelter("Z-MEN", "ngo_shelter", LIM, sexes="M", accepts_transgender=True, **ADULTS),
        ),
        "Z-MEN",
    ),
    ChoiceRow(
        "decline re-routing: the declining CAR is excluded -> next nearest",
        "car_specialized_trafficking",
        girl(purposes=SEXUAL),
        DIRECTORY,
        "CARE-CUS",
        exclude=frozenset({"CARE-MDD"}),
    ),
    ChoiceRow(
        "decline re-routing: nothing left after exclusions -> gap no_provider_in_region",
        "car_specialized_trafficking",
        girl(purposes=SEXUAL),
        DIRECTORY,
        "gap:no_provider_in_region",
        exclude=frozenset({"CARE-MDD", "CARE-CUS", "CARE-LIM"}),
    ),
    ChoiceRow(
        "decline re-routing: only a full one left -> gap capacity_full",
        "car_specialized_trafficking",
        girl(purposes=SEXUAL),
        DIRECTORY,
        "gap:capacity_full",
        exclude=frozenset({"CARE-MDD", "CARE-CUS"}),
    ),
]


@pytest.mark.parametrize("row", CHOICES, ids=[r.situation for r in CHOICES])
def test_provider_choice(row: ChoiceRow) -> None:
    provider, gap = choose_provider(
        row.service_type, row.facts, row.directory, COORDS, row.exclude, row.prefer_24_7
    )
    if row.expected.startswith("gap:"):
        assert provider is None
        assert gap is not None and gap.code == row.expected[4:]
        assert gap.service_type == row.service_type and gap.es and gap.en
    else:
        assert gap is None
        assert provider is not None and provider.code == row.expected


@pytest.mark.parametrize(
    ("situation", "provider", "facts", "expected"),
    [
        ("child in a children's CAR", shelter("C", "car_general", MDD, **CHILDREN), girl(), None),
        (
            "adult in a children's CAR",
            shelter("C", "car_general", MDD, **CHILDREN),
            woman(),
            "age_out_of_range",
        ),
        (
            "presumed child of unknown age overlaps 12-17",
            shelter("C", "car_general", MDD, min_age=12, max_age=17),
            person({"child"}),
            None,
        ),
        (
            "unknown age, adult rules: not a children's CAR",
            shelter("C", "car_general", MDD, **CHILDREN),
            person({"age_unknown"}),
            "age_out_of_range",
        ),
        (
            "boy in a girls' CAR",
            shelter("C", "car_general", MDD, sexes="F"),
            boy(),
            "sex_not_served",
        ),
        (
            "intersex person in a women-only shelter",
            shelter("S", "ngo_shelter", MDD, sexes="F", **ADULTS),
            person({"adult", "lgbtqi"}, age_years=30, sex="intersex"),
            "sex_not_served",
        ),
        (
            "trans woman in a women's shelter not accepting trans people",
            shelter("S", "ngo_shelter", MDD, sexes="F", **ADULTS),
            person(
                {"adult", "male", "lgbtqi"}, age_years=30, sex="M", gender_identity="trans_feminine"
            ),
            "transgender_not_accepted",
        ),
        (
            "trans woman at a non-residential service: accepts_transgender does not apply",
            prov("X", "cem", MDD, accepts_transgender=False),
            person(
                {"adult", "male", "lgbtqi"}, age_years=30, sex="M", gender_identity="trans_feminine"
            ),
            None,
        ),
        (
            "foreigner at a nationals-only provider",
            prov("X", "cem", MDD, accepts_foreign=False),
            woman(extra=FOREIGN, nationality=("VEN",)),
            "foreign_not_accepted",
        ),
        (
            "Colombian at the Venezuelan consulate",
            prov("X", "consulate", LIM, nationalities=("VEN",)),
            woman(extra=FOREIGN, nationality=("COL",)),
            "nationality_not_served",
        ),
        (
            "dual national at one of her consulates",
            prov("X", "consulate", LIM, nationalities=("VEN",)),
            woman(extra=FOREIGN, nationality=("COL", "VEN")),
            None,
        ),
        (
            "woman at an lgbtqi-dedicated shelter",
            shelter("S", "ngo_shelter", MDD, serves=frozenset({"lgbtqi"}), **ADULTS),
            woman(),
            "profile_not_served",
        ),
        ("inactive provider", prov("X", "cem", MDD, is_active=False), woman(), "inactive"),
    ],
)
def test_eligibility(
    situation: str, provider: ProviderFacts, facts: ReferralFacts, expected: str | None
) -> None:
    assert eligible(provider, facts) == (expected is None, expected), situation


def test_facts_are_validated() -> None:
    with pytest.raises(ValueError, match="status"):
        person({"adult"}, status="maybe")
    with pytest.raises(ValueError, match="exactly one"):
        person({"adult", "child"})
    with pytest.raises(ValueError, match="tags"):
        person({"adult", "vip"})
    with pytest.raises(ValueError, match="aware"):
        person({"adult"}, at=datetime(2026, 3, 11, 10, 0))


def test_geo_distances() -> None:
    assert region_distance_km(LIM, LIM, COORDS) == 0.0
    assert region_distance_km(LIM, "abroad", COORDS) is None
    # Lima–Cusco is about 570 km as the crow flies.
    assert 560 < haversine_km(COORDS[LIM], COORDS[CUS]) < 590
    assert haversine_km(COORDS[CUS], COORDS[PUN]) < haversine_km(COORDS[LIM], COORDS[PUN])
    with pytest.raises(ValueError):
        haversine_km((91.0, 0.0), (0.0, 0.0))


# =========================================================== Part 2: the demo directory


def _read(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


REAL_DIRECTORY = tuple(parse_directory_row(r) for r in _read("directory.csv"))
REAL_COORDS = parse_region_coords(_read("regions.csv"))


def test_demo_directory_parses_completely() -> None:
    assert len(REAL_DIRECTORY) == 227
    assert len({p.code for p in REAL_DIRECTORY}) == 227
    assert len(REAL_COORDS) == 26
    assert all(p.region in REAL_COORDS for p in REAL_DIRECTORY)
    residential = [p for p in REAL_DIRECTORY if p.is_residential]
    assert residential and all(p.capacity for p in residential)
    upe_lim = next(p for p in REAL_DIRECTORY if p.code == "UPE-LIM")
    assert upe_lim.hours.is_always_open and upe_lim.max_age == 17
    cons = next(p for p in REAL_DIRECTORY if p.code == "CONS-VEN")
    assert cons.nationalities == ("VEN",)
    diverse = next(p for p in REAL_DIRECTORY if p.code == "ONG-REF-LIM-D")
    assert diverse.serves == frozenset({"lgbtqi"}) and diverse.accepts_transgender


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ({"code": "X", "hours": "sometimes"}, "hours"),
        ({"code": "X", "min_age": "old"}, "min_age"),
        ({"code": "X", "min_age": "30", "max_age": "20"}, "min_age"),
        ({"code": "X", "sexes": "W"}, "sexes"),
        ({"code": "X", "accepts_foreign": "maybe"}, "accepts_foreign"),
        ({"code": "X", "capacity": "-1"}, "capacity"),
        ({"code": ""}, "code"),
    ],
)
def test_bad_directory_rows_are_refused_naming_the_column(
    row: dict[str, str], problem: str
) -> None:
    base = {
        "code": "X",
        "name": "X",
        "service_type": "cem",
        "region": "17",
        "min_age": "0",
        "max_age": "120",
        "sexes": "any",
        "accepts_transgender": "true",
        "accepts_foreign": "true",
        "capacity": "",
        "hours": "24/7",
        "languages": "es",
        "nationalities": "",
        "serves": "",
    }
    with pytest.raises(ValueError, match=problem):
        parse_directory_row({**base, **row})


REAL_ROWS: list[Row] = [
    Row(
        "demo: girl 16 sexual exploitation in Madre de Dios -> UPE-MDD, CARE-MDD",
        girl(purposes=SEXUAL, identification_context="police_operation"),
        {
            "mimp_upe": (M, "UPE-MDD"),
            "car_specialized_trafficking": (R, "CARE-MDD"),
            "udavit": (R, "UDAVIT-MDD"),
            "health_minsa": (R, "MINSA-MDD"),
        },
        only=True,
    ),
    Row(
        "demo: boy identified Saturday 23:00 in Loreto -> UPE-LOR closed, CARG-LOR",
        boy(region=LOR, at=SATURDAY_23, purposes=FORCED_LABOUR),
        {"mimp_upe": (M, "UPE-LOR"), "car_general": (R, "CARG-LOR")},
        gaps=frozenset({"after_hours_unavailable", "no_specialized_shelter_boys"}),
        alerts=frozenset({"child_not_in_police_station"}),
        only=True,
    ),
    Row(
        "demo: child in Lima at night -> UPE-LIM is 24/7, no alert",
        girl(region=LIM, at=WEDNESDAY_22),
        {"mimp_upe": (M, "UPE-LIM")},
        only=True,
    ),
    Row(
        "demo: adult man needing shelter in Puno -> gap, Albergue Temporal Varones Lima",
        man(region=PUN, needs=frozenset({"shelter"})),
        {"ngo_shelter": (R, "ONG-REF-LIM-M")},
        gaps=frozenset({"no_state_shelter_adult_men"}),
        only=True,
    ),
    Row(
        "demo: asylum-seeking Venezuelan woman in Tumbes -> CEPR-LIM and ACNUR-TUM, never "
        "consulate, no Migraciones or IOM without consent naming them",
        woman(
            extra=frozenset({"foreign", "asylum_seeker"}),
            nationality=("VEN",),
            region=TUM,
            needs=frozenset({"shelter"}),
            consent_service_types=frozenset({"consulate"}),
        ),
        {
            "refugee_cepr": (R, "CEPR-LIM"),
            "unhcr": (R, "ACNUR-TUM"),
            "migration_migraciones": None,  # type: ignore[dict-item]
            "iom": None,  # type: ignore[dict-item]
            "ngo_shelter": (R, "ONG-REF-TUM-W"),
            "consulate": None,  # type: ignore[dict-item]
        },
        only=True,
    ),
    Row(
        "demo: trans woman needing shelter in Cusco -> Casa Diversa Lima with gap",
        person(
            {"adult", "male", "lgbtqi"},
            age_years=24,
            sex="M",
            gender_identity="trans_feminine",
            needs=frozenset({"shelter"}),
            region=CUS,
        ),
        {"ngo_shelter": (R, "ONG-REF-LIM-D")},
        gaps=frozenset({"no_shelter_accepting_transgender"}),
        only=True,
    ),
    Row(
        "demo: Quechua-speaking girl in Cusco, sexual exploitation -> CARE-CUS",
        person(
            {"child", "female", "indigenous_language"},
            age_years=15,
            sex="F",
            region=CUS,
            purposes=SEXUAL,
            languages=("qu",),
        ),
        {"mimp_upe": (M, "UPE-CUS"), "car_specialized_trafficking": (R, "CARE-CUS")},
        alerts=frozenset({"interpreter_needed"}),
        only=True,
    ),
]


@pytest.mark.parametrize("row", REAL_ROWS, ids=[r.situation for r in REAL_ROWS])
def test_demo_directory_table(row: Row) -> None:
    plan = plan_referrals(row.facts, REAL_DIRECTORY, REAL_COORDS)
    got = _summary(plan)
    assert {k: got.get(k) for k in row.proposals} == row.proposals
    assert {g.code for g in plan.gaps} == row.gaps
    assert {a.code for a in plan.alerts} == row.alerts


# ====================================================================== Part 3: properties

REGIONS = sorted(COORDS)
SERVICE_TYPES = (
    "mimp_upe",
    "car_specialized_trafficking",
    "car_general",
    "cem",
    "udavit",
    "prosecutor_trafficking",
    "legal_aid_minjusdh",
    "ngo_shelter",
    "ngo_services",
    "health_minsa",
    "labor_inspection_sunafil",
    "migration_migraciones",
    "iom",
    "refugee_cepr",
    "consulate",
)
NATIONALITIES = ("PER", "VEN", "COL", "BOL")
LANGS = ("es", "qu", "ay")
TAG_EXTRAS = ("lgbtqi", "foreign", "indigenous_language", "unaccompanied", "asylum_seeker")


@st.composite
def providers(draw: st.DrawFn) -> ProviderFacts:
    lo = draw(st.integers(0, 60))
    return ProviderFacts(
        code=draw(st.text("ABCDEFGH", min_size=1, max_size=4)),
        name="p",
        service_type=draw(st.sampled_from(SERVICE_TYPES)),
        region=draw(st.sampled_from([*REGIONS, "abroad"])),
        hours=draw(st.sampled_from((ALWAYS, OFFICE))),
        min_age=lo,
        max_age=draw(st.integers(lo, 120)),
        sexes=draw(st.sampled_from(("F", "M", "any"))),
        accepts_transgender=draw(st.booleans()),
        accepts_foreign=draw(st.booleans()),
        capacity=draw(st.none() | st.integers(0, 5)),
        occupancy=draw(st.integers(0, 6)),
        languages=tuple(draw(st.sets(st.sampled_from(LANGS), min_size=1))),
        nationalities=tuple(draw(st.sets(st.sampled_from(NATIONALITIES), max_size=2))),
        serves=frozenset(
            draw(st.sets(st.sampled_from(("lgbtqi", "foreign", "child")), max_size=1))
        ),
        is_active=draw(st.booleans()),
    )


@st.composite
def facts_strategy(draw: st.DrawFn) -> ReferralFacts:
    age_tag = draw(st.sampled_from(("child", "adult", "age_unknown")))
    sex = draw(st.sampled_from(("F", "M", "intersex", "unknown")))
    tags = {age_tag, *draw(st.sets(st.sampled_from(TAG_EXTRAS)))}
    if sex == "F":
        tags.add("female")
    if sex == "M":
        tags.add("male")
    if age_tag == "child":
        age = draw(st.none() | st.integers(0, 17))
    elif age_tag == "adult":
        age = draw(st.none() | st.integers(18, 90))
    else:
        age = None
    consent = draw(
        st.none()
        | st.just(frozenset({"all"}))
        | st.just(frozenset({"consulate"}))
        | st.just(frozenset({"all", "consulate"}))
        | st.just(frozenset({"migration_migraciones", "iom"}))
    )
    return ReferralFacts(
        status=draw(st.sampled_from(("indicated", "possible", "not_indicated"))),
        tags=frozenset(tags),
        identified_at=draw(
            st.datetimes(
                min_value=datetime(2026, 1, 1),
                max_value=datetime(2026, 12, 31),
                timezones=st.just(LIMA),
            )
        ),
        region=draw(st.sampled_from([*REGIONS, "abroad", "unknown"])),
        age_years=age,
        sex=sex,
        gender_identity=draw(
            st.sampled_from(
                (
                    "feminine",
                    "masculine",
                    "trans_feminine",
                    "trans_masculine",
                    "non_conforming",
                    "not_specified",
                )
            )
        ),
        nationality=tuple(draw(st.lists(st.sampled_from(NATIONALITIES), max_size=2, unique=True))),
        languages=tuple(draw(st.lists(st.sampled_from(LANGS), max_size=3, unique=True))),
        purposes=frozenset(
            draw(
                st.sets(
                    st.sampled_from(
                        (
                            "sexual_exploitation",
                            "forced_labour",
                            "begging",
                            "servitude",
                            "organ_removal",
                            "other",
                        )
                    )
                )
            )
        ),
        indicators=frozenset(
            draw(st.sets(st.sampled_from(("physical_abuse", "sexual_abuse", "debt_bondage"))))
        ),
        needs=frozenset(
            draw(
                st.sets(
                    st.sampled_from(
                        (
                            "shelter",
                            "medical",
                            "psychological",
                            "interpreter",
                            "legal",
                            "protection",
                            "return_assistance",
                            "education",
                        )
                    )
                )
            )
        ),
        pregnant=draw(st.booleans()),
        identification_context=draw(
            st.sampled_from(("police_operation", "prosecutor_investigation", "hotline", "other"))
        ),
        consent_service_types=consent,
    )


@st.composite
def directories(draw: st.DrawFn) -> tuple[ProviderFacts, ...]:
    """The fixture directory with random occupancy (often full) and switched-off
    providers, plus random extra providers, or a wholly random directory."""
    if draw(st.integers(0, 3)) == 0:
        return tuple(draw(st.lists(providers(), max_size=40)))
    base = tuple(
        replace(
            p,
            occupancy=draw(st.integers(0, (p.capacity or 0) + 1)),
            is_active=draw(st.integers(0, 9)) > 0,
        )
        for p in DIRECTORY
    )
    return base + tuple(draw(st.lists(providers(), max_size=10)))


PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(facts_strategy(), directories())
def test_never_proposes_an_ineligible_inactive_or_full_provider(
    facts: ReferralFacts, directory: tuple[ProviderFacts, ...]
) -> None:
    plan = plan_referrals(facts, directory, COORDS)
    for p in plan.proposals:
        if p.provider is None:
            assert p.gap is not None, "an unassigned referral must say why"
            continue
        assert p.provider in directory
        assert p.provider.service_type == p.service_type
        assert p.provider.is_active
        assert eligible(p.provider, facts) == (True, None)
        if p.service_type in ("car_specialized_trafficking", "car_general", "ngo_shelter"):
            cap = p.provider.capacity
            assert cap is None or p.provider.occupancy < cap, "a full shelter was proposed"


@PROPERTY_SETTINGS
@given(facts_strategy(), directories())
def test_never_a_consulate_for_an_asylum_seeker(
    facts: ReferralFacts, directory: tuple[ProviderFacts, ...]
) -> None:
    plan = plan_referrals(facts, directory, COORDS)
    services = {p.service_type for p in plan.proposals}
    if "asylum_seeker" in facts.tags:
        assert "consulate" not in services
    if "consulate" in services:
        assert facts.consent_service_types and "consulate" in facts.consent_service_types


@PROPERTY_SETTINGS
@given(facts_strategy(), directories())
def test_udavit_reasons_always_state_non_conditionality(
    facts: ReferralFacts, directory: tuple[ProviderFacts, ...]
) -> None:
    plan = plan_referrals(facts, directory, COORDS)
    for p in plan.proposals:
        if p.service_type == "udavit":
            assert any("no están condicionadas" in r.es for r in p.reasons)
            assert any("not conditional" in r.en for r in p.reasons)


@PROPERTY_SETTINGS
@given(facts_strategy(), directories())
def test_plan_invariants(facts: ReferralFacts, directory: tuple[ProviderFacts, ...]) -> None:
    plan = plan_referrals(facts, directory, COORDS)
    types = [p.service_type for p in plan.proposals]
    assert len(types) == len(set(types)), "one referral per service type"
    for p in plan.proposals:
        hours = 24 if p.priority == "mandatory" else 72
        assert p.due_at == facts.identified_at + timedelta(hours=hours)
        assert p.reasons and all(r.es and r.en for r in p.reasons)
        if not facts.is_child:
            assert p.requires_consent
        if p.priority == "mandatory":
            assert facts.is_child and p.rule in ("C1", "C2") and not p.requires_consent
    if facts.status == "not_indicated":
        assert set(types) <= {
            "ngo_shelter",
            "car_general",
            "car_specialized_trafficking",
            "health_minsa",
            "cem",
            "ngo_services",
            "legal_aid_minjusdh",  # E7: legal need
            "iom",  # E7: return need of a foreigner not seeking asylum
        }
        if not facts.needs:
            assert not plan.proposals
    else:
        assert plan.proposals
    if facts.is_child and facts.status != "not_indicated":
        assert {"mimp_upe", "prosecutor_trafficking"} <= set(types)
    gap_codes = {g.code for g in plan.gaps}
    assert gap_codes <= {
        "no_state_shelter_adult_men",
        "no_shelter_accepting_transgender",
        "no_specialized_shelter_boys",
        "no_provider_in_region",
        "no_provider_for_profile",
        "capacity_full",
        "after_hours_unavailable",
        "no_service_for_need",
    }
    assert {a.code for a in plan.alerts} <= {
        "child_not_in_police_station",
        "interpreter_needed",
        "urgent_medical_care",
    }
    # E7: nothing a person asked for disappears silently.
    for need in facts.needs - {"interpreter"}:
        answered = set(types) & NEED_SERVICE_TYPES.get(need, frozenset())
        assert answered or any(g.need == need for g in plan.gaps), need
