"""Realistic, varied screening requests (api.md §4), shaped like ROSA in
tests/integration/test_screening_api.py: names, ages, sexes, regions, purposes, means,
documents, needs and consent vary; every code comes from the code lists. Pure: a seeded
``random.Random`` in, a JSON-ready dict out."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

GIVEN_F = (
    "Rosa",
    "María",
    "Luz",
    "Carmen",
    "Yessica",
    "Milagros",
    "Flor",
    "Ana Lucía",
    "Sonia",
    "Katherine",
    "Daniela",
    "Rocío",
    "Elena",
    "Gabriela",
    "Nayeli",
)
GIVEN_M = (
    "Juan",
    "Luis",
    "José",
    "Carlos",
    "Jhon",
    "Wilmer",
    "Edwin",
    "Miguel Ángel",
    "Percy",
    "Alex",
    "Jesús",
    "Raúl",
    "Yordy",
    "Franklin",
    "Kevin",
)
SURNAMES = (
    "Quispe",
    "Mamani",
    "Huamán",
    "Flores",
    "Condori",
    "Rojas",
    "Chávez",
    "Vargas",
    "Ramos",
    "Torres",
    "Mendoza",
    "Apaza",
    "Ccahuana",
    "Gutiérrez",
    "Salazar",
    "Pérez",
    "Sánchez",
    "Díaz",
    "Castillo",
    "Ticona",
    "Choque",
    "Yupanqui",
)
REGIONS = (
    "01",
    "02",
    "03",
    "04",
    "05",
    "06",
    "07",
    "08",
    "09",
    "10",
    "11",
    "12",
    "13",
    "14",
    "15",
    "1501",
    "16",
    "17",
    "18",
    "19",
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
)
CONTEXTS = (
    "police_operation",
    "prosecutor_investigation",
    "labour_inspection",
    "hotline",
    "health_service",
    "ngo_outreach",
    "border_control",
    "self_referral",
    "family_or_community",
)
ACTS = ("recruitment", "transport", "transfer", "harbouring", "receipt", "retention")
MEANS = (
    "violence",
    "threat",
    "deprivation_of_liberty",
    "fraud",
    "deception",
    "abuse_of_power",
    "abuse_of_vulnerability",
    "payments_or_benefits",
)
PURPOSES = (
    "sexual_exploitation",
    "sexual_exploitation",
    "sexual_exploitation",
    "labour_exploitation",
    "labour_exploitation",
    "forced_labour",
    "servitude",
    "begging",
    "forced_criminality",
    "sale_of_children",
)
INDICATORS = (
    "debt_bondage",
    "withholds_documents",
    "restricts_movement",
    "physical_abuse",
    "takes_earnings",
    "threats",
    "false_promises",
    "excessive_hours",
    "low_or_no_pay",
    "isolation",
)
NEEDS = (
    "shelter",
    "medical",
    "psychological",
    "legal",
    "protection",
    "documentation",
    "family_tracing",
    "return_assistance",
)
SECTORS = (
    "hospitality_bars",
    "commercial_sex",
    "mining",
    "agriculture",
    "domestic_work",
    "logging",
    "construction",
    "peddling",
    "begging",
    "unknown",
)
RELATIONS = (
    "stranger",
    "employer_or_agent",
    "friend_or_acquaintance",
    "family",
    "intimate_partner",
    "unknown",
)
RECRUITMENT = (
    "job_offer",
    "online_social_network",
    "friend",
    "family_or_event",
    "abduction",
    "unknown",
)
LIMA = timezone(timedelta(hours=-5))
# Invented surnames widen the name space (about 20,000 surnames, so a pair of surnames
# plus a given name repeats rarely): with only the common ones, thousands of screenings
# of a load test would share a name and a birth year and link into a few huge "persons".
_ONSETS = ("", "b", "c", "ch", "h", "hu", "l", "m", "n", "p", "q", "qu", "r", "s", "t", "y")
_NUCLEI = ("a", "e", "i", "o", "u", "ua", "ia")
_CODAS = ("", "n", "r", "s", "l", "y", "z")


def surname(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(SURNAMES)
    parts = (
        rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)
        for _ in range(rng.choice((2, 2, 3)))
    )
    return "".join(parts).capitalize()


def _some(rng: random.Random, pool: tuple[str, ...], low: int, high: int) -> list[str]:
    return sorted(set(rng.sample(pool, rng.randint(low, high))))


def screening(rng: random.Random, now: datetime | None = None) -> dict[str, Any]:
    """One varied screening request body."""
    now = now or datetime.now(UTC)
    female = rng.random() < 0.72
    sex = "F" if female else "M"
    foreign = rng.random() < 0.18
    age = rng.choice((rng.randint(9, 17), rng.randint(18, 30), rng.randint(18, 55)))
    identified = now - timedelta(minutes=rng.randint(5, 60 * 24 * 400))
    person: dict[str, Any] = {
        "given_names": rng.choice(GIVEN_F if female else GIVEN_M),
        "family_names": f"{surname(rng)} {surname(rng)}",
        "sex": sex,
        "gender_identity": rng.choice(
            ("feminine" if female else "masculine",) * 8 + ("trans_feminine", "not_specified")
        ),
        "lgbtqi": rng.choice((None, None, None, False, True)),
        "date_of_birth": None,
        "age_years": age,
        "age_estimated": rng.random() < 0.5,
        "appears_minor": None,
        "nationality": ["VEN"] if foreign else ["PER"],
        "document": (
            {"type": "none", "number": None}
            if rng.random() < 0.2
            else {
                "type": "carne_extranjeria" if foreign else "dni",
                "number": f"{rng.randint(10_000_000, 79_999_999)}",
            }
        ),
        "languages": ["es", "qu"] if rng.random() < 0.15 else ["es"],
        "pregnant": female and age >= 15 and rng.random() < 0.05,
        "disability": rng.random() < 0.03,
        "migration_status": rng.choice(("regular", "irregular")) if foreign else "national",
        "unaccompanied": age < 18 and rng.random() < 0.3,
        "contact": f"Tía: 9{rng.randint(10_000_000, 99_999_999)}",
        "address": f"Jr. {rng.choice(SURNAMES)} {rng.randint(1, 999)}",
    }
    if rng.random() < 0.3:
        dob = identified.date() - timedelta(days=365 * age + rng.randint(0, 364))
        person.update(date_of_birth=dob.isoformat(), age_years=None, age_estimated=False)
    region = rng.choice(REGIONS)
    return {
        "identified_at": identified.astimezone(LIMA).isoformat(timespec="seconds"),
        "region": region,
        "identification_context": rng.choice(CONTEXTS),
        "person": person,
        "acts": _some(rng, ACTS, 0, 3),
        "means": _some(rng, MEANS, 0, 2),
        "purposes": _some(rng, PURPOSES, 1, 2),
        "indicators": _some(rng, INDICATORS, 0, 3),
        "stated_consent": rng.random() < 0.2,
        "context": {
            "origin_region": rng.choice(REGIONS),
            "exploitation_region": region,
            "sector": rng.choice(SECTORS),
            "trafficker_relation": rng.choice(RELATIONS),
            "recruitment_method": rng.choice(RECRUITMENT),
            "public_official_involved": rng.random() < 0.05,
            "multiple_victims": rng.random() < 0.3,
            "criminal_organization": rng.random() < 0.1,
            "serious_injury_or_death": False,
        },
        "needs": _some(rng, NEEDS, 0, 3),
        "consent": (
            {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"}
            if rng.random() < 0.8
            else None
        ),
        "notes": "Relato breve de la entrevista inicial.",
    }
