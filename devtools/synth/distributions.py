"""Synthetic data: the distributions (names, population, organizations, legal elements,
record noise rates) that the generator draws from, with their sources in comments."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Generic, TypeVar

T = TypeVar("T")

#: identification dates are spread over this window (fixed, so a seed is reproducible)
FIRST_DAY = date(2023, 1, 1)
LAST_DAY = date(2026, 10, 31)
BATCH_PERSONS = 5_000
"""Persons generated and written per batch (about 7,500 screenings, 40,000 rows)."""


def seeded(material: str) -> random.Random:
    """A reproducible generator for synthetic data (never for anything secret)."""
    return random.Random(material)  # noqa: S311


class Weighted(Generic[T]):
    """A weighted choice with precomputed cumulative weights (``rng.choices`` redoes them)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, weights: Mapping[T, float] | Iterable[tuple[T, float]]) -> None:
        pairs = list(weights.items() if isinstance(weights, Mapping) else weights)
        pairs = [(v, w) for v, w in pairs if w > 0]
        if not pairs:
            raise ValueError("a weighted choice needs at least one positive weight")
        self.values = [v for v, _ in pairs]
        self.cum = list(itertools.accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> T:
        return self.values[bisect.bisect(self.cum, rng.random() * self.total)]


def _zipf(names: str, exponent: float = 0.75, offset: float = 3.0) -> Weighted[str]:
    """Names listed from most to least frequent, weighted 1/(rank+offset)^exponent."""
    items = list(dict.fromkeys(n.strip() for n in names.split(",") if n.strip()))
    return Weighted((n, 1.0 / (rank + offset) ** exponent) for rank, n in enumerate(items))


# --- Population ------------------------------------------------------------------------
# TIP Report 2021 (Peru): police identified 640 suspected victims in 2020 (385 women,
# 118 girls, 137 boys; 79 foreign); prosecutors 470 (411 female; 244 children; 68 foreign,
# 45 of them Venezuelan). Sex trafficking and forced labour (gold mining, logging,
# agriculture, domestic service, begging) dominate; Madre de Dios, Lima, Cusco, Loreto,
# Puno and the northern border are the hotspots.

SEX = Weighted({"F": 0.8, "M": 0.195, "intersex": 0.002, "unknown": 0.003})
NATIONALITY = Weighted(
    {
        "PER": 0.87,
        "VEN": 0.085,
        "ECU": 0.013,
        "COL": 0.011,
        "BOL": 0.009,
        "DOM": 0.004,
        "CHN": 0.003,
        "BRA": 0.002,
        "HTI": 0.002,
        "CUB": 0.001,
    }
)
FORM_BY_SEX = {
    "F": Weighted(
        {
            "sexual": 0.62,
            "labour": 0.29,
            "mixed": 0.04,
            "begging": 0.02,
            "criminality": 0.01,
            "sale_of_children": 0.006,
            "forced_marriage": 0.008,
        }
    ),
    "M": Weighted(
        {
            "labour": 0.70,
            "sexual": 0.10,
            "criminality": 0.08,
            "begging": 0.06,
            "mixed": 0.03,
            "armed_recruitment": 0.015,
            "sale_of_children": 0.005,
        }
    ),
}
FORM_BY_SEX["intersex"] = FORM_BY_SEX["unknown"] = FORM_BY_SEX["F"]

# (probability of a child, child ages, adult ages) by form of exploitation
_CHILD_AGES = {
    "sexual": Weighted({12: 2, 13: 7, 14: 14, 15: 22, 16: 28, 17: 27}),
    "labour": Weighted({a: (1 if a < 12 else 3) for a in range(8, 18)}),
    "begging": Weighted({a: 1 for a in range(4, 15)}),
    "criminality": Weighted({13: 1, 14: 2, 15: 3, 16: 4, 17: 4}),
    "sale_of_children": Weighted({0: 6, 1: 3, 2: 1}),
    "forced_marriage": Weighted({12: 1, 13: 2, 14: 3, 15: 4, 16: 4, 17: 3}),
    "armed_recruitment": Weighted({a: 1 for a in range(11, 18)}),
}
_CHILD_AGES["mixed"] = _CHILD_AGES["sexual"]
_ADULT_AGES = {
    "young": Weighted(
        {a: (8 if a < 25 else 5 if a < 30 else 3 if a < 36 else 1) for a in range(18, 46)}
    ),
    "working": Weighted(
        {a: (6 if a < 30 else 4 if a < 40 else 2 if a < 50 else 1) for a in range(18, 61)}
    ),
    "begging": Weighted({a: (1 if a < 60 else 2) for a in range(25, 80)}),
}
CHILD_SHARE = {
    "sexual": 0.40,
    "labour": 0.24,
    "mixed": 0.30,
    "begging": 0.55,
    "criminality": 0.45,
    "sale_of_children": 1.0,
    "forced_marriage": 0.9,
    "armed_recruitment": 1.0,
}
ADULT_AGES_BY_FORM = {
    "sexual": "young",
    "mixed": "young",
    "criminality": "young",
    "labour": "working",
    "begging": "begging",
    "forced_marriage": "young",
}

SECTOR_BY_FORM = {
    "sexual": Weighted(
        {"commercial_sex": 0.48, "hospitality_bars": 0.42, "other": 0.03, "unknown": 0.07}
    ),
    "mixed": Weighted({"hospitality_bars": 0.75, "mining": 0.15, "other": 0.1}),
    "labour_F": Weighted(
        {
            "domestic_work": 0.34,
            "agriculture": 0.18,
            "hospitality_bars": 0.14,
            "manufacturing": 0.08,
            "peddling": 0.08,
            "mining": 0.08,
            "other": 0.04,
            "unknown": 0.06,
        }
    ),
    "labour_M": Weighted(
        {
            "mining": 0.34,
            "agriculture": 0.2,
            "logging": 0.17,
            "construction": 0.07,
            "fishing": 0.05,
            "manufacturing": 0.05,
            "peddling": 0.03,
            "transportation": 0.03,
            "other": 0.02,
            "unknown": 0.04,
        }
    ),
    "begging": Weighted({"begging": 0.9, "peddling": 0.1}),
    "criminality": Weighted({"illicit_activities": 0.9, "peddling": 0.05, "unknown": 0.05}),
    "sale_of_children": Weighted({"other": 0.6, "unknown": 0.4}),
    "forced_marriage": Weighted({"domestic_work": 0.5, "other": 0.3, "unknown": 0.2}),
    "armed_recruitment": Weighted({"illicit_activities": 0.8, "other": 0.2}),
}

_HOTSPOTS = {
    "1501": 20,
    "17": 11,
    "08": 8,
    "16": 8,
    "21": 7,
    "20": 5,
    "24": 5,
    "12": 5,
    "04": 4,
    "13": 4,
    "25": 3,
    "07": 3,
    "05": 2,
    "22": 2,
    "14": 2,
    "11": 2,
    "10": 2,
    "15": 2,
    "06": 1.5,
    "02": 1.5,
    "03": 1,
    "09": 1,
    "01": 1,
    "18": 0.5,
    "19": 0.5,
    "23": 1,
}
REGION_BY_SECTOR = {
    "mining": Weighted(
        {
            "17": 35,
            "21": 18,
            "13": 12,
            "04": 9,
            "05": 7,
            "03": 5,
            "15": 4,
            "08": 4,
            "06": 3,
            "19": 3,
        }
    ),
    "logging": Weighted({"16": 30, "25": 28, "17": 22, "10": 8, "22": 7, "12": 5}),
    "agriculture": Weighted(
        {
            "20": 18,
            "13": 16,
            "11": 14,
            "14": 10,
            "12": 10,
            "1501": 8,
            "06": 8,
            "22": 6,
            "08": 5,
            "04": 5,
        }
    ),
    "fishing": Weighted({"20": 40, "24": 25, "02": 15, "16": 10, "1501": 10}),
    "domestic_work": Weighted(
        {"1501": 50, "04": 10, "08": 8, "13": 8, "12": 6, "20": 6, "14": 6, "16": 6}
    ),
    "begging": Weighted({"1501": 55, "04": 10, "08": 10, "13": 8, "12": 7, "21": 5, "20": 5}),
    "illicit_activities": Weighted({"05": 30, "08": 20, "12": 18, "10": 12, "1501": 10, "16": 10}),
}
HOTSPOT = Weighted(_HOTSPOTS)
ORIGIN_REGION = Weighted(
    {
        "08": 12,
        "21": 11,
        "16": 10,
        "10": 8,
        "05": 8,
        "03": 7,
        "06": 7,
        "12": 6,
        "25": 5,
        "01": 4,
        "09": 5,
        "22": 5,
        "1501": 6,
        "20": 3,
        "02": 3,
    }
)
ANDEAN = frozenset({"08", "21", "03", "05", "09", "02", "10", "12"})
AMAZONIAN_LANG = {"16": "agr", "25": "shp", "12": "ash", "17": "other"}

# --- Organizations ---------------------------------------------------------------------
FIRST_KIND = Weighted(
    {
        "police": 0.36,
        "prosecutor": 0.18,
        "mimp": 0.15,
        "ngo": 0.09,
        "labour": 0.07,
        "health": 0.05,
        "migration": 0.04,
        "legal_aid": 0.02,
        "local_government": 0.02,
        "international": 0.02,
    }
)
NEXT_KIND: dict[str, dict[str, float]] = {
    "police": {"prosecutor": 0.45, "mimp": 0.3, "ngo": 0.1, "health": 0.08, "legal_aid": 0.07},
    "prosecutor": {"mimp": 0.4, "police": 0.25, "legal_aid": 0.15, "ngo": 0.1, "health": 0.1},
    "mimp": {"prosecutor": 0.35, "police": 0.3, "ngo": 0.15, "health": 0.12, "legal_aid": 0.08},
    "ngo": {"mimp": 0.35, "police": 0.3, "prosecutor": 0.25, "international": 0.1},
    "labour": {"police": 0.4, "prosecutor": 0.35, "mimp": 0.15, "legal_aid": 0.1},
    "health": {"police": 0.4, "mimp": 0.4, "prosecutor": 0.2},
    "migration": {"police": 0.4, "mimp": 0.3, "international": 0.2, "ngo": 0.1},
    "legal_aid": {"prosecutor": 0.5, "mimp": 0.3, "police": 0.2},
    "local_government": {"mimp": 0.5, "police": 0.3, "prosecutor": 0.2},
    "international": {"mimp": 0.4, "migration": 0.3, "police": 0.3},
}
#: days between one organization's screening and the next one's (mean of an exponential)
NEXT_DELAY_DAYS = {"prosecutor": 1.0, "mimp": 4.0, "police": 3.0, "legal_aid": 12.0}
#: screenings per person: ~35% of persons are seen by two or more organizations
SCREENINGS_PER_PERSON = Weighted({1: 0.65, 2: 0.22, 3: 0.09, 4: 0.03, 5: 0.01})

CONTEXT_BY_KIND = {
    "police": Weighted(
        {
            "police_operation": 0.7,
            "hotline": 0.1,
            "family_or_community": 0.1,
            "border_control": 0.05,
            "other": 0.05,
        }
    ),
    "prosecutor": Weighted(
        {"prosecutor_investigation": 0.75, "police_operation": 0.15, "other": 0.1}
    ),
    "mimp": Weighted(
        {
            "family_or_community": 0.3,
            "hotline": 0.25,
            "self_referral": 0.2,
            "school": 0.15,
            "other": 0.1,
        }
    ),
    "ngo": Weighted({"ngo_outreach": 0.7, "hotline": 0.15, "self_referral": 0.15}),
    "labour": Weighted({"labour_inspection": 0.9, "other": 0.1}),
    "health": Weighted({"health_service": 0.9, "other": 0.1}),
    "migration": Weighted({"border_control": 0.85, "other": 0.15}),
    "legal_aid": Weighted({"self_referral": 0.5, "other": 0.5}),
    "local_government": Weighted({"family_or_community": 0.4, "school": 0.3, "other": 0.3}),
    "international": Weighted({"ngo_outreach": 0.4, "border_control": 0.3, "self_referral": 0.3}),
}
_OTHER_CONTEXT = Weighted({"other": 1.0})

# --- Legal elements ----------------------------------------------------------------------
ACT_P = {
    "recruitment": 0.72,
    "transport": 0.42,
    "transfer": 0.12,
    "harbouring": 0.33,
    "receipt": 0.22,
    "retention": 0.28,
}
MEANS_P = {
    "deception": 0.55,
    "abuse_of_vulnerability": 0.33,
    "threat": 0.18,
    "violence": 0.13,
    "other_coercion": 0.07,
    "deprivation_of_liberty": 0.09,
    "fraud": 0.07,
    "abuse_of_power": 0.04,
    "payments_or_benefits": 0.04,
}
INDICATOR_P = {
    "sexual": {
        "sexual_abuse": 0.25,
        "takes_earnings": 0.35,
        "psychoactive_substances": 0.15,
        "restricts_movement": 0.25,
        "withholds_documents": 0.2,
        "threats": 0.25,
        "isolation": 0.15,
        "debt_bondage": 0.2,
        "false_promises": 0.3,
    },
    "labour": {
        "debt_bondage": 0.3,
        "withholds_documents": 0.2,
        "excessive_hours": 0.45,
        "low_or_no_pay": 0.5,
        "hazardous_work": 0.3,
        "restricts_movement": 0.2,
        "withholds_necessities": 0.15,
        "false_promises": 0.35,
        "isolation": 0.15,
    },
    "begging": {
        "uses_children": 0.6,
        "takes_earnings": 0.5,
        "physical_abuse": 0.15,
        "threats": 0.2,
    },
    "criminality": {
        "threats": 0.4,
        "threat_law_enforcement": 0.3,
        "physical_abuse": 0.2,
        "psychoactive_substances": 0.2,
        "restricts_movement": 0.2,
    },
    "other": {
        "restricts_movement": 0.3,
        "threats": 0.3,
        "psychological_abuse": 0.2,
        "isolation": 0.2,
    },
}
INDICATOR_P["mixed"] = {**INDICATOR_P["labour"], **INDICATOR_P["sexual"]}
LABOUR_PURPOSE = {
    "domestic_work": Weighted({"servitude": 0.8, "labour_exploitation": 0.2}),
    "default": Weighted({"labour_exploitation": 0.5, "forced_labour": 0.46, "slavery": 0.04}),
}
SINGLE_PURPOSE = {
    "sexual": "sexual_exploitation",
    "begging": "begging",
    "criminality": "forced_criminality",
    "sale_of_children": "sale_of_children",
    "forced_marriage": "forced_marriage",
    "armed_recruitment": "armed_recruitment",
}
RELATION = Weighted(
    {
        "employer_or_agent": 0.33,
        "friend_or_acquaintance": 0.25,
        "stranger": 0.14,
        "family": 0.1,
        "intimate_partner": 0.09,
        "unknown": 0.09,
    }
)
RECRUITMENT = Weighted(
    {
        "job_offer": 0.52,
        "online_social_network": 0.16,
        "friend": 0.1,
        "family_or_event": 0.08,
        "online_advertisement": 0.05,
        "abduction": 0.02,
        "other": 0.03,
        "unknown": 0.04,
    }
)
FOREIGN_DOCUMENT = Weighted(
    {"ptp": 0.35, "carne_extranjeria": 0.25, "passport": 0.15, "cedula_foreign": 0.25}
)
MIGRATION = Weighted(
    {"irregular": 0.45, "regular": 0.33, "asylum_seeker": 0.12, "refugee": 0.03, "unknown": 0.07}
)
GENDER = Weighted(
    {
        None: 0.88,
        "feminine": 0.06,
        "masculine": 0.03,
        "trans_feminine": 0.025,
        "trans_masculine": 0.003,
        "non_conforming": 0.002,
    }
)
NEEDS_P = {
    "shelter": 0.4,
    "medical": 0.45,
    "psychological": 0.6,
    "legal": 0.5,
    "documentation": 0.12,
    "family_tracing": 0.08,
    "financial": 0.1,
    "education": 0.08,
    "employment": 0.1,
    "return_assistance": 0.06,
}

P_NO_PURPOSE = 0.06  # the purpose was not (yet) established
P_THIN = 0.03  # only an act and weak indicators recorded

# --- Record noise ------------------------------------------------------------------------
# Per screening (each organization types the person in again):
P_NO_NAME = 0.015  # anonymous hotline call, person refused to give a name
P_DROP_SECOND_GIVEN = 0.25  # of those with two given names
P_DROP_SECOND_SURNAME = 0.05  # Peruvians; foreigners often use one surname
P_DROP_SECOND_SURNAME_FOREIGN = 0.3
P_SWAP_SURNAMES = 0.04  # maternal surname first
P_SURNAMES_FIRST = 0.08  # "QUISPE MAMANI ROSA" typed into the given-names field
P_TYPO = 0.12  # one substitution, transposition or omission in one name part
P_DROP_ACCENTS = 0.5
P_ADD_ACCENT = 0.05
P_UPPER = 0.45
P_LOWER = 0.05
P_DOC_RECORDED = 0.78  # of those who have a document
P_DOC_PLACEHOLDER = 0.03  # "00000000" or "S/N" typed instead of leaving it empty
P_DOC_TYPO = 0.01
P_SEX_UNKNOWN = 0.01
# date of birth versus age
P_DOB_KNOWN = {"PER_doc": 0.85, "PER": 0.45, "foreign": 0.6}
P_RECORD_DOB = 0.8  # of persons whose date of birth is known
P_AGE_ONLY_WHEN_DOB = 0.17
P_AGE_WRONG_BY_ONE = 0.3
P_NOTHING_WHEN_UNKNOWN = 0.12
P_DOB_TYPO = 0.02  # day and month swapped, or a wrong digit in the year

_PHONETIC = (
    ("b", "v"),
    ("v", "b"),
    ("s", "z"),
    ("z", "s"),
    ("c", "s"),
    ("y", "i"),
    ("i", "y"),
    ("ll", "y"),
    ("y", "ll"),
    ("j", "g"),
    ("g", "j"),
    ("x", "j"),
    ("k", "c"),
    ("qu", "k"),
    ("h", ""),
    ("ñ", "n"),
    ("n", "ñ"),
    ("e", "i"),
    ("o", "u"),
    ("u", "o"),
)
_ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}
