"""Legal elements of trafficking and the person's profile (domain.md §1 and §2).

Pure functions over frozen dataclasses: no Flask, no database, no I/O, no clock. The
service layer builds `ScreeningFacts`, calls `determine()` and `profile()`, and stores the
result with its reasons and `RULE_VERSION` so any decision can be replayed and audited.

Read top to bottom it follows domain.md: age (§1.1), status (§1.2–§1.7), missing elements
(§1.8), aggravating circumstances (§1.9), explanation (§1.10), exploitation form, profile
(§2). Codes are not validated here (the API does that); the rules work on plain sets.

Every change to the behaviour of this module must bump `RULE_VERSION`, update the table in
tests/unit/test_screening_rules.py and be noted in docs/decisions/0003-screening-rules.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from caseapp.core import codes
from caseapp.core.codes import (
    LABOUR_PURPOSES,
    LGBTQI_GENDER_IDENTITIES,
    SEXUAL_PURPOSES,
    STRONG_INDICATORS,
    CodeList,
)
from caseapp.core.decisions import Decision, Reason
from caseapp.core.time import LIMA

RULE_VERSION = "2026.1"

AGE_OF_MAJORITY = 18

INDICATED = "indicated"
POSSIBLE = "possible"
NOT_INDICATED = "not_indicated"
STATUS_ORDER: tuple[str, ...] = (NOT_INDICATED, POSSIBLE, INDICATED)
"""From weakest to strongest, so statuses can be compared (`STATUS_ORDER.index`)."""

ELEMENTS: tuple[str, ...] = ("act", "means", "purpose")
"""The three legal elements, in the order `missing_elements` lists them (§1.8)."""


# --- Input facts ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonFacts:
    """What is known about the person; every field may be unknown (None / empty)."""

    sex: str
    gender_identity: str | None = None
    lgbtqi: bool | None = None
    date_of_birth: date | None = None
    age_years: int | None = None
    age_estimated: bool = False
    appears_minor: bool | None = None
    nationality: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    migration_status: str | None = None
    unaccompanied: bool = False
    pregnant: bool = False
    disability: bool = False


@dataclass(frozen=True, slots=True)
class ContextFacts:
    """Circumstances of the case; the four flags feed the aggravating circumstances (§1.9)."""

    origin_region: str | None = None
    exploitation_region: str | None = None
    sector: str | None = None
    trafficker_relation: str | None = None
    recruitment_method: str | None = None
    public_official_involved: bool = False
    multiple_victims: bool = False
    criminal_organization: bool = False
    serious_injury_or_death: bool = False


@dataclass(frozen=True, slots=True)
class ScreeningFacts:
    """One screening as recorded; `identified_at` must be timezone-aware."""

    identified_at: datetime
    region: str
    person: PersonFacts
    acts: frozenset[str]
    means: frozenset[str]
    purposes: frozenset[str]
    indicators: frozenset[str] = field(default_factory=frozenset)
    stated_consent: bool = False
    identification_context: str | None = None
    context: ContextFacts = field(default_factory=ContextFacts)
    needs: frozenset[str] = field(default_factory=frozenset)


# --- §1.1 Age: child, adult or unknown -------------------------------------------------

AGE_FROM_DATE_OF_BIRTH = "date_of_birth"
AGE_FROM_AGE_YEARS = "age_years"
AGE_PRESUMED_MINOR = "appears_minor"
AGE_UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AgeFinding:
    """The age at identification and what it rests on (`basis`), for rules and reasons."""

    age_years: int | None
    basis: str
    estimated: bool = False

    @property
    def is_child(self) -> bool:
        """Under 18, or presumed a child when no age is known but the person looks minor."""
        if self.basis == AGE_PRESUMED_MINOR:
            return True
        return self.age_years is not None and self.age_years < AGE_OF_MAJORITY

    @property
    def is_unknown(self) -> bool:
        """Nothing is known: adult rules apply (§1.1) and the age must be verified."""
        return self.basis == AGE_UNKNOWN

    @property
    def needs_verification(self) -> bool:
        """No recorded age at all (unknown or only presumed) → alert `age_unknown_verify`."""
        return self.age_years is None


def identification_date(identified_at: datetime) -> date:
    """The calendar date of identification in Peru (America/Lima), not in UTC.

    A naive datetime is refused: guessing its zone could move a birthday by a day.
    """
    if identified_at.tzinfo is None or identified_at.utcoffset() is None:
        raise ValueError("identified_at must be timezone-aware")
    return identified_at.astimezone(LIMA).date()


def age_at(identified_on: date, person: PersonFacts) -> int | None:
    """Age in completed years on `identified_on`: from the date of birth if known, else the
    recorded `age_years` (which was recorded at identification), else None.

    Someone born on 29 February turns a year older on 1 March in common years.
    """
    dob = person.date_of_birth
    if dob is not None:
        before_birthday = (identified_on.month, identified_on.day) < (dob.month, dob.day)
        return identified_on.year - dob.year - int(before_birthday)
    return person.age_years


def assess_age(facts: ScreeningFacts) -> AgeFinding:
    """§1.1: recorded age first; presumption of minority only when no age is recorded."""
    person = facts.person
    age = age_at(identification_date(facts.identified_at), person)
    if person.date_of_birth is not None:
        return AgeFinding(age, AGE_FROM_DATE_OF_BIRTH)
    if age is not None:
        return AgeFinding(age, AGE_FROM_AGE_YEARS, estimated=person.age_estimated)
    if person.appears_minor:
        return AgeFinding(None, AGE_PRESUMED_MINOR)
    return AgeFinding(None, AGE_UNKNOWN)


def is_child(facts: ScreeningFacts) -> bool:
    return assess_age(facts).is_child


# --- §1.2–§1.7 Status ------------------------------------------------------------------


def legal_status(
    *,
    child: bool,
    has_act: bool,
    has_means: bool,
    has_purpose: bool,
    has_strong_indicator: bool,
) -> str:
    """The status from the elements alone.

    Any single act counts (§1.5) and a recorded purpose counts even if the exploitation has
    not happened yet (§1.6). Stated consent is deliberately not a parameter: it can never
    change the status (§1.7).
    """
    # §1.2 indicated: act and purpose and (child or means).
    if has_act and has_purpose and (child or has_means):
        return INDICATED
    # §1.3 possible: a purpose; or an act together with a means; or a strong indicator.
    if has_purpose or (has_act and has_means) or has_strong_indicator:
        return POSSIBLE
    # §1.4 otherwise.
    return NOT_INDICATED


def missing_elements(
    *, status: str, child: bool, has_act: bool, has_means: bool, has_purpose: bool
) -> tuple[str, ...]:
    """§1.8: the absent elements that keep the status below `indicated`, in the order act,
    means, purpose. Means are never missing for a child, because a child needs none."""
    if status == INDICATED:
        return ()
    missing: list[str] = []
    if not has_act:
        missing.append("act")
    if not has_means and not child:
        missing.append("means")
    if not has_purpose:
        missing.append("purpose")
    return tuple(missing)


# --- §1.9 Aggravating circumstances (art. 129-B) ----------------------------------------


def aggravating_circumstances(facts: ScreeningFacts, age: AgeFinding) -> tuple[str, ...]:
    """Codes in codes.md §9 order. They are reported, never used to change the status.

    The age circumstances need a recorded age: a child only presumed to be a minor gets
    neither, because under-14 and 14–17 cannot be told apart without an age.
    """
    person, context = facts.person, facts.context
    found: list[str] = []
    if age.age_years is not None and age.age_years < 14:
        found.append("victim_under_14")
    elif age.age_years is not None and age.age_years < AGE_OF_MAJORITY:
        found.append("victim_14_17")
    if person.pregnant:
        found.append("pregnant")
    if person.disability:
        found.append("disability")
    if context.public_official_involved:
        found.append("public_official_involved")
    if context.trafficker_relation == "family":
        found.append("relative_or_guardian_involved")
    if context.multiple_victims:
        found.append("multiple_victims")
    if context.criminal_organization:
        found.append("criminal_organization")
    if context.serious_injury_or_death:
        found.append("serious_injury_or_death")
    return tuple(found)


# --- Derived exploitation form (GLOTIP-compatible) ---------------------------------------


def exploitation_form(purposes: Iterable[str]) -> str:
    """One form per person for statistics (domain.md §1, last paragraph).

    "Both" means sexual and labour purposes and nothing else; adding any other purpose makes
    the combination `multiple_other`.
    """
    recorded = frozenset(purposes)
    if not recorded:
        return "none"
    sexual = recorded & SEXUAL_PURPOSES
    labour = recorded & LABOUR_PURPOSES
    other = recorded - SEXUAL_PURPOSES - LABOUR_PURPOSES
    if not other:
        if sexual and labour:
            return "mixed_sexual_labour"
        if sexual:
            return "sexual_exploitation"
        return "forced_labour"
    if len(recorded) == 1:
        (single,) = recorded
        return single if single in codes.EXPLOITATION_FORM else "other"
    return "multiple_other"


# --- Determination -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Determination:
    """The advice of §1 (not a legal finding, §1.11) with its reasons and rule version."""

    status: str
    missing_elements: tuple[str, ...]
    aggravating: tuple[str, ...]
    exploitation_form: str
    explanation: tuple[Reason, ...]
    alerts: tuple[str, ...]
    rule_version: str = RULE_VERSION

    def as_dict(self) -> dict[str, object]:
        """Exactly the `determination` object of api.md §4."""
        return {
            "status": self.status,
            "missing_elements": list(self.missing_elements),
            "aggravating": list(self.aggravating),
            "exploitation_form": self.exploitation_form,
            "explanation": [reason.as_dict() for reason in self.explanation],
        }

    def as_decision(self) -> Decision:
        return Decision(self.status, self.explanation, self.rule_version)


def determine(facts: ScreeningFacts) -> Determination:
    """Apply domain.md §1 to one screening."""
    age = assess_age(facts)  # §1.1
    child = age.is_child
    has_act = bool(facts.acts)  # §1.5: any single act
    has_means = bool(facts.means)
    has_purpose = bool(facts.purposes)  # §1.6: the purpose, not the exploitation
    strong = facts.indicators & STRONG_INDICATORS

    status = legal_status(
        child=child,
        has_act=has_act,
        has_means=has_means,
        has_purpose=has_purpose,
        has_strong_indicator=bool(strong),
    )
    missing = missing_elements(
        status=status, child=child, has_act=has_act, has_means=has_means, has_purpose=has_purpose
    )
    aggravating = aggravating_circumstances(facts, age)
    alerts = ("age_unknown_verify",) if age.needs_verification else ()
    explanation = _explain(facts, age, status, missing, aggravating)
    return Determination(
        status=status,
        missing_elements=missing,
        aggravating=aggravating,
        exploitation_form=exploitation_form(facts.purposes),
        explanation=explanation,
        alerts=alerts,
    )


# --- §1.10 Explanation -------------------------------------------------------------------
# Reason codes (documented in docs/decisions/0003-screening-rules.md):
#   age:        age_child | age_presumed_child | age_adult | age_unknown   (exactly one)
#   act:        act_present (+ act_without_recruitment) | no_act
#   means:      means_present and/or child_means_not_required | no_means (adults only)
#   purpose:    purpose_present | no_purpose
#   indicators: strong_indicator, other_indicators                        (when recorded)
#   consent:    child_consent_irrelevant | consent_irrelevant_means_used | consent_no_effect
#   result:     status_indicated | status_possible | status_not_indicated (exactly one)
#   then:       aggravating_present (when any), advice_not_legal_finding  (always)

EXPLANATION_CODES: frozenset[str] = frozenset(
    {
        "age_child",
        "age_presumed_child",
        "age_adult",
        "age_unknown",
        "act_present",
        "act_without_recruitment",
        "no_act",
        "means_present",
        "child_means_not_required",
        "no_means",
        "purpose_present",
        "no_purpose",
        "strong_indicator",
        "other_indicators",
        "child_consent_irrelevant",
        "consent_irrelevant_means_used",
        "consent_no_effect",
        "status_indicated",
        "status_possible",
        "status_not_indicated",
        "aggravating_present",
        "advice_not_legal_finding",
    }
)
"""Every code `determine()` can put in `explanation` (the API and the ADR list them)."""

_ELEMENT_NAMES = {
    "act": ("acto", "act"),
    "means": ("medio", "means"),
    "purpose": ("finalidad", "purpose"),
}


def _explain(
    facts: ScreeningFacts,
    age: AgeFinding,
    status: str,
    missing: tuple[str, ...],
    aggravating: tuple[str, ...],
) -> tuple[Reason, ...]:
    reasons: list[Reason] = [_age_reason(age)]
    reasons += _element_reasons(facts, age.is_child)
    reasons += _indicator_reasons(facts.indicators)
    reasons += _consent_reasons(facts, age.is_child)
    reasons.append(_status_reason(facts, age.is_child, status, missing))
    if aggravating:
        reasons.append(
            Reason(
                "aggravating_present",
                "Circunstancias agravantes (art. 129-B del Código Penal): "
                f"{_labels(aggravating, codes.AGGRAVATING, 'es')}. No cambian el resultado.",
                "Aggravating circumstances (Penal Code art. 129-B): "
                f"{_labels(aggravating, codes.AGGRAVATING, 'en')}. "
                "They do not change the result.",
            )
        )
    reasons.append(
        Reason(
            "advice_not_legal_finding",
            "Esta evaluación orienta la atención; no es una calificación jurídica. Un "
            "supervisor puede registrar otro resultado con una justificación.",
            "This assessment guides assistance; it is not a legal finding. A supervisor may "
            "record a different result with a justification.",
        )
    )
    return tuple(reasons)


def _age_reason(age: AgeFinding) -> Reason:
    if age.basis == AGE_PRESUMED_MINOR:
        return Reason(
            "age_presumed_child",
            "No se conoce la edad, pero aparenta ser menor de edad: se presume que es niña, "
            "niño o adolescente (presunción de minoría de edad) y se aplican las reglas para "
            "menores. Verifique la edad.",
            "The age is unknown but the person appears to be under 18: they are presumed to "
            "be a child (presumption of minority) and the rules for children apply. Verify "
            "the age.",
        )
    if age.age_years is None:
        return Reason(
            "age_unknown",
            "No se conoce la edad: se aplican las reglas para personas adultas hasta verificarla.",
            "The age is unknown: the rules for adults apply until it is verified.",
        )
    if age.basis == AGE_FROM_DATE_OF_BIRTH:
        basis_es, basis_en = "según su fecha de nacimiento", "from the date of birth"
    elif age.estimated:
        basis_es, basis_en = "según la edad estimada", "from the estimated age"
    else:
        basis_es, basis_en = "según la edad registrada", "from the recorded age"
    years = age.age_years
    if age.is_child:
        return Reason(
            "age_child",
            f"Es niña, niño o adolescente: tenía {years} años en la fecha de identificación "
            f"({basis_es}).",
            f"The person is a child: {years} years old on the date of identification ({basis_en}).",
        )
    return Reason(
        "age_adult",
        f"Es una persona adulta: tenía {years} años en la fecha de identificación ({basis_es}).",
        f"The person is an adult: {years} years old on the date of identification ({basis_en}).",
    )


def _element_reasons(facts: ScreeningFacts, child: bool) -> list[Reason]:
    reasons: list[Reason] = []
    if facts.acts:
        reasons.append(
            Reason(
                "act_present",
                f"Se registró al menos un acto: {_labels(facts.acts, codes.ACT, 'es')}. "
                "Basta un solo acto.",
                f"At least one act was recorded: {_labels(facts.acts, codes.ACT, 'en')}. "
                "A single act is enough.",
            )
        )
        if "recruitment" not in facts.acts:
            reasons.append(
                Reason(
                    "act_without_recruitment",
                    "No se registró captación, pero no es necesaria: la retención, la "
                    "recepción o cualquier otro acto basta por sí solo.",
                    "Recruitment was not recorded, but it is not required: retention, receipt "
                    "or any other act is enough on its own.",
                )
            )
    else:
        reasons.append(
            Reason(
                "no_act",
                "No se registró ningún acto (captación, transporte, traslado, acogida, "
                "recepción o retención).",
                "No act was recorded (recruitment, transport, transfer, harbouring, receipt or "
                "retention).",
            )
        )

    if facts.means:
        reasons.append(
            Reason(
                "means_present",
                f"Se registró al menos un medio: {_labels(facts.means, codes.MEANS, 'es')}.",
                f"At least one means was recorded: {_labels(facts.means, codes.MEANS, 'en')}.",
            )
        )
    if child:
        reasons.append(
            Reason(
                "child_means_not_required",
                "Es menor de edad: para niñas, niños y adolescentes no se requiere ningún medio.",
                "The person is a child: no means are required for children.",
            )
        )
    elif not facts.means:
        reasons.append(
            Reason(
                "no_means",
                "No se registró ningún medio (violencia, amenaza, engaño, abuso de una situación "
                "de vulnerabilidad u otro): para una persona adulta se necesita al menos uno.",
                "No means was recorded (violence, threat, deception, abuse of a position of "
                "vulnerability or other): an adult case needs at least one.",
            )
        )

    if facts.purposes:
        reasons.append(
            Reason(
                "purpose_present",
                "Se registró al menos una finalidad de explotación: "
                f"{_labels(facts.purposes, codes.PURPOSE, 'es')}. Basta la finalidad: no es "
                "necesario que la explotación ya se haya producido.",
                "At least one purpose of exploitation was recorded: "
                f"{_labels(facts.purposes, codes.PURPOSE, 'en')}. The purpose is enough: the "
                "exploitation need not have happened yet.",
            )
        )
    else:
        reasons.append(
            Reason(
                "no_purpose",
                "No se registró ninguna finalidad de explotación.",
                "No purpose of exploitation was recorded.",
            )
        )
    return reasons


def _indicator_reasons(indicators: frozenset[str]) -> list[Reason]:
    reasons: list[Reason] = []
    strong = indicators & STRONG_INDICATORS
    other = indicators - STRONG_INDICATORS
    if strong:
        reasons.append(
            Reason(
                "strong_indicator",
                "Se registró al menos un indicador fuerte de trata: "
                f"{_labels(strong, codes.INDICATOR, 'es')}.",
                "At least one strong indicator of trafficking was recorded: "
                f"{_labels(strong, codes.INDICATOR, 'en')}.",
            )
        )
    if other:
        reasons.append(
            Reason(
                "other_indicators",
                f"Otros indicadores registrados: {_labels(other, codes.INDICATOR, 'es')}. Por "
                "sí solos no cambian el resultado, pero orientan la evaluación.",
                f"Other indicators recorded: {_labels(other, codes.INDICATOR, 'en')}. On their "
                "own they do not change the result, but they inform the assessment.",
            )
        )
    return reasons


def _consent_reasons(facts: ScreeningFacts, child: bool) -> list[Reason]:
    """§1.7: consent is explained, never weighed."""
    if not facts.stated_consent:
        return []
    if child:
        return [
            Reason(
                "child_consent_irrelevant",
                "La persona dijo que aceptó, pero el consentimiento de una niña, niño o "
                "adolescente nunca es válido: no cambia el resultado.",
                "The person said they agreed, but a child's consent is always irrelevant: it "
                "does not change the result.",
            )
        ]
    if facts.means:
        return [
            Reason(
                "consent_irrelevant_means_used",
                "La persona dijo que aceptó, pero se usaron medios "
                f"({_labels(facts.means, codes.MEANS, 'es')}). Cuando se usan medios, el "
                "consentimiento no tiene validez y no cambia el resultado.",
                "The person said they agreed, but means were used "
                f"({_labels(facts.means, codes.MEANS, 'en')}). Where means were used, consent "
                "is irrelevant and does not change the result.",
            )
        ]
    return [
        Reason(
            "consent_no_effect",
            "La persona dijo que aceptó. Esto no cambia el resultado: el consentimiento nunca "
            "rebaja la evaluación.",
            "The person said they agreed. This does not change the result: consent never "
            "downgrades the assessment.",
        )
    ]


def _status_reason(
    facts: ScreeningFacts, child: bool, status: str, missing: tuple[str, ...]
) -> Reason:
    if status == INDICATED:
        if child:
            elements_es = "un acto y una finalidad; por ser menor de edad no se requiere medio"
            elements_en = "an act and a purpose; as the person is a child, no means is required"
        else:
            elements_es = "un acto, un medio y una finalidad"
            elements_en = "an act, a means and a purpose"
        return Reason(
            "status_indicated",
            "Resultado: hay indicios de trata y la persona es presunta víctima. Están presentes "
            f"{elements_es}.",
            "Result: trafficking is indicated and the person is a presumed victim. There is "
            f"{elements_en}.",
        )
    missing_es = _join([_ELEMENT_NAMES[e][0] for e in missing], "y")
    missing_en = _join([_ELEMENT_NAMES[e][1] for e in missing], "and")
    if status == POSSIBLE:
        grounds_es: list[str] = []
        grounds_en: list[str] = []
        if facts.purposes:
            grounds_es.append("hay una finalidad de explotación")
            grounds_en.append("there is a purpose of exploitation")
        if facts.acts and facts.means:
            grounds_es.append("hay un acto y un medio")
            grounds_en.append("there is an act and a means")
        if facts.indicators & STRONG_INDICATORS:
            grounds_es.append("hay un indicador fuerte")
            grounds_en.append("there is a strong indicator")
        return Reason(
            "status_possible",
            f"Resultado: posible trata, requiere más evaluación, porque {_join(grounds_es, 'y')}. "
            f"Falta: {missing_es}.",
            f"Result: possible trafficking, needs further assessment, because "
            f"{_join(grounds_en, 'and')}. Missing: {missing_en}.",
        )
    return Reason(
        "status_not_indicated",
        f"Resultado: sin indicios de trata con los datos registrados. Falta: {missing_es}. Si "
        "surge nueva información, vuelva a evaluar.",
        f"Result: trafficking is not indicated by the recorded facts. Missing: {missing_en}. "
        "Screen again if new information comes up.",
    )


_LABELS_MEMO: dict[tuple[int, frozenset[str], str], tuple[CodeList, str]] = {}
_LABELS_MEMO_SIZE = 20_000


def _labels(recorded: Iterable[str], code_list: CodeList, locale: str) -> str:
    """Labels of the recorded codes in list order, lower-cased for use inside a sentence.

    Codes not in the list (not validated here) are shown as they are, after the known ones.
    The same few combinations of codes recur in every explanation, so the sentences are
    memoized (code labels only, never personal data; bounded).
    """
    wanted = frozenset(recorded)
    key = (id(code_list), wanted, locale)
    hit = _LABELS_MEMO.get(key)
    if hit is not None and hit[0] is code_list:
        return hit[1]
    known = [c for c in code_list.codes if c in wanted]
    unknown = sorted(wanted - set(known))
    words = [_lower_first(code_list.label(c, locale)) for c in known] + unknown
    text = _join(words, "and" if locale == "en" else "y")
    if not unknown and len(_LABELS_MEMO) < _LABELS_MEMO_SIZE:  # only listed codes
        _LABELS_MEMO[key] = (code_list, text)
    return text


def _lower_first(text: str) -> str:
    """'Engaño' → 'engaño', but acronyms such as 'DNI' stay as they are."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def _join(words: Sequence[str], conjunction: str) -> str:
    """'a, b y c'; Spanish 'y' becomes 'e' before an /i/ sound ('violencia e intimidación')."""
    if len(words) <= 1:
        return "".join(words)
    last = words[-1]
    if (
        conjunction == "y"
        and last.lower().startswith(("i", "hi"))
        and not last.lower().startswith(("hia", "hie", "hio", "hiu"))
    ):
        conjunction = "e"
    return f"{', '.join(words[:-1])} {conjunction} {last}"


# --- §2 Profile --------------------------------------------------------------------------

TAG_ORDER: tuple[str, ...] = (
    "child",
    "adult",
    "age_unknown",
    "female",
    "male",
    "lgbtqi",
    "foreign",
    "indigenous_language",
    "unaccompanied",
    "asylum_seeker",
)
"""The stable order of `Profile.tags` (the order of domain.md §2)."""

# Age bands (codes.md §2): whole years, both ends inclusive; None = no upper limit.
AGE_GROUP_BANDS: tuple[tuple[int | None, str], ...] = (
    (13, "under_14"),
    (17, "age_14_17"),
    (None, "adult"),
)
MP_BANDS: tuple[tuple[int | None, str], ...] = (
    (12, "0_12"),
    (17, "13_17"),
    (24, "18_24"),
    (34, "25_34"),
    (44, "35_44"),
    (64, "45_64"),
    (None, "65_plus"),
)
CTDC_BANDS: tuple[tuple[int | None, str], ...] = (
    (8, "0_8"),
    (17, "9_17"),
    (20, "18_20"),
    (23, "21_23"),
    (26, "24_26"),
    (29, "27_29"),
    (38, "30_38"),
    (47, "39_47"),
    (None, "48_plus"),
)

_UNODC_CATEGORY = {
    ("F", True): "girl",
    ("M", True): "boy",
    ("F", False): "woman",
    ("M", False): "man",
}


@dataclass(frozen=True, slots=True)
class Profile:
    """Tags and statistical bands derived from the person (domain.md §2, codes.md §2)."""

    tags: tuple[str, ...]
    age_group: str
    unodc_category: str
    mp_band: str
    ctdc_band: str
    age_years: int | None

    def as_dict(self) -> dict[str, object]:
        """Exactly the `profile` object of api.md §4."""
        return {
            "tags": list(self.tags),
            "age_group": self.age_group,
            "unodc_category": self.unodc_category,
        }


def age_band(age_years: int | None, bands: tuple[tuple[int | None, str], ...]) -> str:
    """The band containing `age_years`, or `unknown` when no age is recorded."""
    if age_years is None:
        return "unknown"
    for upper, band in bands:
        if upper is None or age_years <= upper:
            return band
    return "unknown"


def profile(facts: ScreeningFacts) -> Profile:
    """Apply domain.md §2 to one screening."""
    person = facts.person
    age = assess_age(facts)
    tags: set[str] = set()

    # child / adult / age_unknown from §1.1 (exactly one).
    if age.is_child:
        tags.add("child")
    elif age.is_unknown:
        tags.add("age_unknown")
    else:
        tags.add("adult")
    if person.sex == "M":
        tags.add("male")
    if person.sex == "F":
        tags.add("female")
    if (
        person.lgbtqi is True
        or person.gender_identity in LGBTQI_GENDER_IDENTITIES  # trans_*, non_conforming
        or person.sex == "intersex"
    ):
        tags.add("lgbtqi")
    if person.nationality and "PER" not in person.nationality:
        tags.add("foreign")
    if any(lang != "es" for lang in person.languages) and "es" not in person.languages:
        tags.add("indigenous_language")
    if age.is_child and person.unaccompanied:
        tags.add("unaccompanied")
    if person.migration_status in ("asylum_seeker", "refugee"):
        tags.add("asylum_seeker")

    return Profile(
        tags=tuple(tag for tag in TAG_ORDER if tag in tags),
        age_group=age_band(age.age_years, AGE_GROUP_BANDS),
        unodc_category=(
            "unknown"
            if age.is_unknown
            else _UNODC_CATEGORY.get((person.sex, age.is_child), "unknown")
        ),
        mp_band=age_band(age.age_years, MP_BANDS),
        ctdc_band=age_band(age.age_years, CTDC_BANDS),
        age_years=age.age_years,
    )
