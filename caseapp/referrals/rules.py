"""Referral rules (domain.md §3): who should be referred where, and why.

Pure: frozen facts in, a :class:`ReferralPlan` out; no Flask, no database, no I/O, so that
the rules can be read top to bottom by a lawyer, replayed for audit and tested as a table.

How to read this module:

1. :func:`plan_referrals` lists the rules in the order of the spec (C1–C5 for children,
   A1–A3 for adults, E1–E6 for everyone). Each rule is one short function below it.
2. :func:`eligible` and :func:`choose_provider` say which provider of a service type is
   proposed (eligibility, free capacity, same region, nearest, tie-breaks).
3. Texts (Spanish and English) sit next to the rule that writes them.

Choices where the spec is silent are listed in docs/decisions/0004-referral-rules.md;
the main ones are repeated in the docstrings here. Any change to the rules must bump
``RULE_VERSION`` and the table in tests/unit/test_referral_rules.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caseapp.core import codes, gender
from caseapp.core.decisions import Reason
from caseapp.core.time import lima_text
from caseapp.directory.geo import region_distance_km
from caseapp.directory.hours import parse_hours
from caseapp.directory.rules import ProviderFacts

RULE_VERSION = "2026.3"

# --------------------------------------------------------------------------- vocabulary
MANDATORY = "mandatory"
RECOMMENDED = "recommended"
_PRIORITY_RANK = {MANDATORY: 0, RECOMMENDED: 1}

STATUSES = frozenset({"indicated", "possible", "not_indicated"})
PROFILE_TAGS = frozenset(
    {
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
    }
)

#: Residential services: capacity counts and ``accepts_transgender`` applies (§3).
RESIDENTIAL_SERVICE_TYPES = codes.RESIDENTIAL_SERVICES
SEXUAL_PURPOSES = codes.SEXUAL_PURPOSES
#: E3 labour purposes: codes.md §5 labour purposes plus begging, as §3 E3 lists them.
E3_LABOUR_PURPOSES = codes.LABOUR_PURPOSES | {"begging"}
INVESTIGATION_CONTEXTS = frozenset({"police_operation", "prosecutor_investigation"})
GENDER_DIVERSE_IDENTITIES = codes.TRANSGENDER_IDENTITIES | {"non_conforming"}
#: Residential eligibility uses gender identity for transgender people (§3 A3).
_SEX_FROM_GENDER_IDENTITY = {"trans_feminine": "F", "trans_masculine": "M"}

#: E7: which referral types answer a recorded need. A need none of whose types is
#: proposed (by its own rule or by E7) gets the gap ``no_service_for_need``. ``legal`` is
#: proposed by E7 itself when A1 did not; ``protection`` is met by the UPE (C1) or UDAVIT
#: (E1); ``interpreter`` is answered by E5 (alert and language on every referral);
#: ``family_tracing``, ``documentation``, ``financial``, ``education`` and ``employment``
#: have no service type in the directory, so they always become gaps.
NEED_SERVICE_TYPES: Mapping[str, frozenset[str]] = {
    "shelter": RESIDENTIAL_SERVICE_TYPES,
    "medical": frozenset({"health_minsa"}),
    "psychological": frozenset({"cem", "ngo_services"}),
    "legal": frozenset({"legal_aid_minjusdh"}),
    "protection": frozenset({"mimp_upe", "udavit"}),
    "return_assistance": frozenset({"iom"}),
}

MANDATORY_DUE = timedelta(hours=24)
RECOMMENDED_DUE = timedelta(hours=72)
#: "Out of hours" for the 24/7 tie-break: outside the public administration's usual
#: office hours, which are also the hours of most providers in the directory.
OFFICE_HOURS = parse_hours("mon-fri 08:00-17:00")
#: Consulates are proposed only when the consent scope names them explicitly (E2).
CONSULATE_CONSENT_SCOPE = "consulate"

#: Reason codes returned by :func:`eligible`.
INELIGIBILITY_REASONS = (
    "inactive",
    "age_out_of_range",
    "sex_not_served",
    "transgender_not_accepted",
    "foreign_not_accepted",
    "nationality_not_served",
    "profile_not_served",
)


# ------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class ReferralFacts:
    """What the rules need to know about one screening (built by the service layer).

    ``identified_at`` is the reference for due times and for whether a provider was open
    at identification. ``created_at`` (when the referrals are created, i.e. now; ``None``
    = at identification) is the reference for a gap's next opening, which must never be
    in the past (domain.md §3 C5).
    ``consent_service_types``: ``None`` when no consent is recorded, ``{"all"}`` for every
    proposed referral, otherwise the listed service types. Only E2 looks at it (the
    consulate; Migraciones and IOM for an asylum seeker).
    """

    status: str
    tags: frozenset[str]
    identified_at: datetime
    region: str
    age_years: int | None = None
    sex: str = "unknown"
    gender_identity: str = "not_specified"
    nationality: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    purposes: frozenset[str] = frozenset()
    indicators: frozenset[str] = frozenset()
    needs: frozenset[str] = frozenset()
    pregnant: bool = False
    identification_context: str = "other"
    consent_service_types: frozenset[str] | None = None
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown screening status {self.status!r}")
        unknown = set(self.tags) - PROFILE_TAGS
        if unknown:
            raise ValueError(f"unknown profile tags {sorted(unknown)}")
        if len(set(self.tags) & {"child", "adult", "age_unknown"}) != 1:
            raise ValueError("tags need exactly one of child, adult, age_unknown")
        if self.identified_at.tzinfo is None or self.identified_at.utcoffset() is None:
            raise ValueError("identified_at must be an aware datetime")
        if self.created_at is not None and self.created_at.utcoffset() is None:
            raise ValueError("created_at must be an aware datetime")

    @property
    def opening_reference(self) -> datetime:
        """From when a next opening is counted: creation, never before identification."""
        if self.created_at is None:
            return self.identified_at
        return max(self.identified_at, self.created_at)

    @property
    def is_child(self) -> bool:
        return "child" in self.tags

    @property
    def is_gender_diverse(self) -> bool:
        """Transgender or non-conforming identity (A3 checks this first)."""
        return self.gender_identity in GENDER_DIVERSE_IDENTITIES

    @property
    def residential_sex(self) -> str | None:
        """``F``/``M`` used against a provider's ``sexes``; gender identity wins for trans
        people (§3 A3). ``None`` (intersex, unknown) fits only providers taking ``any``."""
        if self.gender_identity in _SEX_FROM_GENDER_IDENTITY:
            return _SEX_FROM_GENDER_IDENTITY[self.gender_identity]
        return self.sex if self.sex in ("F", "M") else None

    @property
    def is_woman_or_girl(self) -> bool:
        """For A2/E6 (CEM): sex F or a trans feminine identity. Inclusive on purpose: the
        CEM attends both, and these referrals are only recommended and need consent."""
        return self.residential_sex == "F" or "female" in self.tags


# ----------------------------------------------------------------------------- outputs
@dataclass(frozen=True)
class Gap:
    """Unmet need: a service that could not be (fully) provided, and why."""

    code: str
    service_type: str | None
    es: str
    en: str
    next_opening: datetime | None = None
    #: The recorded need left unmet (E7 ``no_service_for_need``); one gap per need.
    need: str | None = None

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "service_type": self.service_type,
            "es": self.es,
            "en": self.en,
        }
        if self.next_opening is not None:
            data["next_opening"] = self.next_opening.isoformat()
        if self.need is not None:
            data["need"] = self.need
        return data


@dataclass(frozen=True)
class Alert:
    code: str
    es: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "es": self.es, "en": self.en}


@dataclass(frozen=True)
class Proposal:
    """One proposed referral; ``provider`` is ``None`` when unassigned (see ``gap``).

    ``gap`` explains the missing provider, or is an informative gap attached to a referral
    that has a provider (e.g. ``no_state_shelter_adult_men``, ``after_hours_unavailable``).
    """

    rule: str
    service_type: str
    priority: str
    provider: ProviderFacts | None
    requires_consent: bool
    due_at: datetime
    interpreter_language: str | None
    reasons: tuple[Reason, ...]
    gap: Gap | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "service_type": self.service_type,
            "priority": self.priority,
            "provider": self.provider.summary() if self.provider else None,
            "requires_consent": self.requires_consent,
            "due_at": self.due_at.isoformat(),
            "interpreter_language": self.interpreter_language,
            "reasons": [r.as_dict() for r in self.reasons],
            "gap": self.gap.as_dict() if self.gap else None,
        }


@dataclass(frozen=True)
class ReferralPlan:
    proposals: tuple[Proposal, ...]
    gaps: tuple[Gap, ...]
    alerts: tuple[Alert, ...]
    rule_version: str = RULE_VERSION

    def proposal_for(self, service_type: str) -> Proposal | None:
        return next((p for p in self.proposals if p.service_type == service_type), None)

    def as_dict(self) -> dict[str, object]:
        return {
            "proposals": [p.as_dict() for p in self.proposals],
            "gaps": [g.as_dict() for g in self.gaps],
            "alerts": [a.as_dict() for a in self.alerts],
            "rule_version": self.rule_version,
        }


# ============================================================================ THE RULES
def plan_referrals(
    facts: ReferralFacts,
    providers: Iterable[ProviderFacts],
    region_coords: Mapping[str, tuple[float, float]],
) -> ReferralPlan:
    """Apply domain.md §3 in order and return the proposed referrals, gaps and alerts.

    ``not_indicated`` screenings get only the needs-driven rules: shelter (A3, or C3 for a
    child), E4 for the ``medical`` need, E5 and E6.
    """
    plan = _PlanBuilder(facts, tuple(providers), region_coords)
    full_rules = facts.status in ("indicated", "possible")

    if facts.is_child:
        if full_rules:
            rule_c1_special_protection_unit(plan)
            rule_c2_prosecutor(plan)
            rule_c3_residential_care(plan)
            rule_c4_unaccompanied_foreign_child(plan)
            rule_c5_upe_closed(plan)
        elif "shelter" in facts.needs:
            rule_c3_residential_care(plan)
    else:
        if full_rules:
            rule_a1_legal_aid_and_prosecutor(plan)
            rule_a2_adult_woman(plan)
        rule_a3_shelter(plan)

    if full_rules:
        rule_e1_victim_assistance(plan)
        rule_e2_foreign(plan)
        rule_e3_labour(plan)
    rule_e4_health(plan, needs_only=not full_rules)
    rule_e5_interpreter(plan)
    rule_e6_psychological(plan)
    rule_e7_every_need_answered(plan)
    return plan.build()


# ---------------------------------------------------------------------------- children
def rule_c1_special_protection_unit(plan: _PlanBuilder) -> None:
    """C1: every child → MIMP UPE of the region of identification, mandatory, 24 h."""
    who_es, who_en = _who(plan.facts)
    plan.propose(
        "C1",
        "mimp_upe",
        MANDATORY,
        Reason(
            "c1_child_upe",
            f"C1 — Persona menor de edad ({who_es}): derivación obligatoria a la Unidad de "
            "Protección Especial (UPE) del MIMP de la región de identificación; la ley exige "
            "informar de inmediato al MIMP. No requiere consentimiento.",
            f"C1 — Child ({who_en}): mandatory referral to the MIMP Special Protection Unit "
            "(UPE) of the region of identification; the law requires MIMP to be informed at "
            "once. No consent needed.",
        ),
    )


def rule_c2_prosecutor(plan: _PlanBuilder) -> None:
    """C2: every child → specialised trafficking prosecutor, mandatory, 24 h."""
    who_es, who_en = _who(plan.facts)
    plan.propose(
        "C2",
        "prosecutor_trafficking",
        MANDATORY,
        Reason(
            "c2_child_prosecutor",
            f"C2 — Persona menor de edad ({who_es}): derivación obligatoria a la Fiscalía "
            "especializada en trata de personas. No requiere consentimiento.",
            f"C2 — Child ({who_en}): mandatory referral to the specialised trafficking "
            "prosecutor. No consent needed.",
        ),
    )


def rule_c3_residential_care(plan: _PlanBuilder) -> None:
    """C3: girl with a sexual purpose → specialised CAR; any other child → general CAR.

    A boy also gets the gap ``no_specialized_shelter_boys`` when no specialised CAR would
    take him. When C5 applies (UPE closed), 24/7 providers win ties.
    """
    facts = plan.facts
    who_es, who_en = _who(facts)
    is_girl = facts.residential_sex == "F"
    sexual = bool(facts.purposes & SEXUAL_PURPOSES)
    placement_es = (
        " El acogimiento lo dispone la UPE; requiere el consentimiento del representante "
        "legal o de la UPE."
    )
    placement_en = (
        " Placement is ordered by the UPE; it needs the consent of the legal "
        "representative or the UPE."
    )
    if is_girl and sexual:
        service_type = "car_specialized_trafficking"
        reason = Reason(
            "c3_girl_sexual_specialized_car",
            f"C3 — Niña o adolescente mujer ({who_es}) con finalidad de explotación sexual: "
            "se recomienda acogimiento residencial en un CAR especializado en trata."
            + placement_es,
            f"C3 — Girl ({who_en}) with a sexual exploitation purpose: residential care in a "
            "specialised CAR for trafficking victims is recommended." + placement_en,
        )
    else:
        service_type = "car_general"
        reason = Reason(
            "c3_child_general_car",
            f"C3 — Persona menor de edad ({who_es}): se recomienda acogimiento residencial "
            "en un Centro de Acogida Residencial (CAR)." + placement_es,
            f"C3 — Child ({who_en}): residential care in a residential care centre (CAR) is "
            "recommended." + placement_en,
        )
    boys_gap = None
    if facts.residential_sex == "M":
        takes_boys = any(
            eligible(p, facts)[0]
            for p in plan.providers
            if p.service_type == "car_specialized_trafficking"
        )
        if not takes_boys:
            boys_gap = Gap(
                "no_specialized_shelter_boys",
                "car_specialized_trafficking",
                "C3 — Ningún CAR especializado en trata acepta a niños o adolescentes varones "
                "con este perfil; se propone un CAR general.",
                "C3 — No specialised trafficking CAR takes boys with this profile; a general "
                "CAR is proposed.",
            )
    plan.propose(
        "C3",
        service_type,
        RECOMMENDED,
        reason,
        prefer_24_7=plan.upe_closed_at_identification() is not None,
        info_gap=boys_gap,
    )


def rule_c4_unaccompanied_foreign_child(plan: _PlanBuilder) -> None:
    """C4: unaccompanied foreign child → Migraciones and IOM; never a consulate if asylum."""
    facts = plan.facts
    if not {"unaccompanied", "foreign"} <= facts.tags:
        return
    nat = ", ".join(facts.nationality) or "?"
    asylum_es = asylum_en = ""
    if "asylum_seeker" in facts.tags:
        asylum_es = " Solicita refugio: nunca se deriva ni se informa a su consulado."
        asylum_en = " Asylum is sought: never referred to or reported to their consulate."
    for service_type, name_es, name_en in (
        ("migration_migraciones", "Migraciones", "Migraciones"),
        ("iom", "la OIM", "IOM"),
    ):
        plan.propose(
            "C4",
            service_type,
            RECOMMENDED,
            Reason(
                f"c4_unaccompanied_foreign_child_{service_type}",
                f"C4 — Niña, niño o adolescente extranjero no acompañado ({nat}): se "
                f"recomienda derivar a {name_es}.{asylum_es}",
                f"C4 — Unaccompanied foreign child ({nat}): referral to {name_en} "
                f"recommended.{asylum_en}",
            ),
        )


def rule_c5_upe_closed(plan: _PlanBuilder) -> None:
    """C5: chosen UPE closed at identification → alert, after-hours gap (C3 prefers 24/7).

    The UPE referral keeps its provider and due time; the gap carries the next opening.
    """
    upe = plan.proposal("mimp_upe")
    next_opening = plan.upe_closed_at_identification()
    if upe is None or upe.provider is None or next_opening is None:
        return
    at_es, at_en = _when(plan.facts.identified_at)
    open_es, open_en = _when(next_opening)
    hours_es, hours_en = upe.provider.hours.describe("es"), upe.provider.hours.describe("en")
    plan.alert(
        Alert(
            "child_not_in_police_station",
            f"C5 — La UPE {upe.provider.code} está cerrada en el momento de la identificación "
            f"({at_es}). La niña, niño o adolescente debe ser llevado a un centro de acogida "
            "residencial abierto las 24 horas; nunca debe permanecer en una comisaría.",
            f"C5 — UPE {upe.provider.code} is closed at the time of identification ({at_en}). "
            "The child must be taken to a residential provider open 24/7 and must never be "
            "held at a police station.",
        )
    )
    plan.attach_gap(
        "mimp_upe",
        Gap(
            "after_hours_unavailable",
            "mimp_upe",
            f"C5 — UPE {upe.provider.code} fuera de horario ({hours_es}); próxima apertura: "
            f"{open_es}. La derivación se mantiene con su plazo.",
            f"C5 — UPE {upe.provider.code} is out of hours ({hours_en}); next opening: "
            f"{open_en}. The referral keeps its provider and due time.",
            next_opening=next_opening,
        ),
    )


# ------------------------------------------------------------------------------ adults
def rule_a1_legal_aid_and_prosecutor(plan: _PlanBuilder) -> None:
    """A1: adults → public legal aid and the specialised prosecutor, both recommended."""
    who_es, who_en = _who(plan.facts)
    plan.propose(
        "A1",
        "legal_aid_minjusdh",
        RECOMMENDED,
        Reason(
            "a1_adult_legal_aid",
            f"A1 — {who_es.capitalize()}: se recomienda la defensa pública de víctimas "
            "(MINJUSDH). Requiere consentimiento.",
            f"A1 — {who_en.capitalize()}: public legal aid for victims (MINJUSDH) is "
            "recommended. Needs consent.",
        ),
    )
    plan.propose(
        "A1",
        "prosecutor_trafficking",
        RECOMMENDED,
        Reason(
            "a1_adult_prosecutor",
            f"A1 — {who_es.capitalize()}: se recomienda la Fiscalía especializada en trata "
            "de personas. Requiere consentimiento.",
            f"A1 — {who_en.capitalize()}: the specialised trafficking prosecutor is "
            "recommended. Needs consent.",
        ),
    )


def rule_a2_adult_woman(plan: _PlanBuilder) -> None:
    """A2: adult woman → Centro Emergencia Mujer, recommended."""
    if not plan.facts.is_woman_or_girl:
        return
    words = _words(plan.facts)
    plan.propose(
        "A2",
        "cem",
        RECOMMENDED,
        Reason(
            "a2_adult_woman_cem",
            f"A2 — {words.category_es}: se recomienda el Centro Emergencia Mujer (CEM). "
            "Requiere consentimiento.",
            f"A2 — {words.category_en}: the Women's Emergency Centre (CEM) is recommended. "
            "Needs consent.",
        ),
    )


_A3_TYPES = ("ngo_shelter", "car_specialized_trafficking", "car_general")


def rule_a3_shelter(plan: _PlanBuilder) -> None:
    """A3: adult with the ``shelter`` need → a shelter fitting their identity.

    Checked in this order: transgender or non-conforming identity; man; woman (or sex not
    recorded as F/M). Women and trans people may go to any residential type (NGO or state)
    that takes adults; men only to NGO shelters, since the State has none for them.
    """
    facts = plan.facts
    if "shelter" not in facts.needs:
        return
    who_es, who_en = _who(facts)
    if facts.is_gender_diverse:
        _a3_gender_diverse(plan, who_es, who_en)
    elif facts.residential_sex == "M":
        _a3_man(plan, who_es, who_en)
    elif facts.residential_sex == "F":
        reason = Reason(
            "a3_shelter_woman",
            f"A3 — Necesidad de alojamiento ({who_es}): se recomienda un albergue de ONG o un "
            "centro residencial del Estado que acoja a mujeres adultas. Requiere "
            "consentimiento.",
            f"A3 — Shelter need ({who_en}): an NGO shelter or state residential centre that "
            "takes adult women is recommended. Needs consent.",
        )
        plan.propose("A3", "ngo_shelter", RECOMMENDED, reason, among=_A3_TYPES)
    else:
        reason = Reason(
            "a3_shelter",
            f"A3 — Necesidad de alojamiento ({who_es}): se recomienda un albergue que acepte "
            "a la persona. Requiere consentimiento.",
            f"A3 — Shelter need ({who_en}): a shelter that takes the person is recommended. "
            "Needs consent.",
        )
        plan.propose("A3", "ngo_shelter", RECOMMENDED, reason, among=_A3_TYPES)


def _a3_gender_diverse(plan: _PlanBuilder, who_es: str, who_en: str) -> None:
    """Only providers accepting transgender people; none in the region → gap, nearest."""
    facts = plan.facts
    reason = Reason(
        "a3_shelter_transgender",
        f"A3 — Necesidad de alojamiento, identidad trans o no conforme ({who_es}): solo se "
        "proponen albergues que aceptan personas trans. Requiere consentimiento.",
        f"A3 — Shelter need, transgender or non-conforming identity ({who_en}): only shelters "
        "accepting transgender people are proposed. Needs consent.",
    )
    proposal = plan.propose("A3", "ngo_shelter", RECOMMENDED, reason, among=_A3_TYPES)
    if proposal.provider is not None and proposal.provider.region == facts.region:
        return
    elsewhere_es = elsewhere_en = ""
    if proposal.provider is not None:
        p = proposal.provider
        elsewhere_es = f"; se propone el más cercano: {p.name} ({p.code}, región {p.region})"
        elsewhere_en = f"; the nearest is proposed: {p.name} ({p.code}, region {p.region})"
    plan.attach_gap(
        proposal.service_type,
        Gap(
            "no_shelter_accepting_transgender",
            proposal.service_type,
            "A3 — No hay en la región de identificación ningún albergue disponible que acepte "
            f"personas trans o de género no conforme{elsewhere_es}.",
            "A3 — No available shelter accepting transgender or non-conforming people in the "
            f"region of identification{elsewhere_en}.",
        ),
    )


def _a3_man(plan: _PlanBuilder, who_es: str, who_en: str) -> None:
    """Always the gap ``no_state_shelter_adult_men``, then the nearest NGO shelter."""
    plan.propose(
        "A3",
        "ngo_shelter",
        RECOMMENDED,
        Reason(
            "a3_shelter_man",
            f"A3 — Necesidad de alojamiento ({who_es}): se recomienda el albergue de ONG más "
            "cercano que acoja a hombres adultos. Requiere consentimiento.",
            f"A3 — Shelter need ({who_en}): the nearest NGO shelter taking adult men is "
            "recommended. Needs consent.",
        ),
        info_gap=Gap(
            "no_state_shelter_adult_men",
            "ngo_shelter",
            "A3 — El Estado no tiene centros de acogida para hombres adultos víctimas de "
            "trata; se busca un albergue de ONG que acoja a hombres adultos.",
            "A3 — The State has no shelter for adult male trafficking victims; an NGO "
            "shelter taking adult men is sought.",
        ),
        gap_when_no_type="no_provider_for_profile",
    )


# ---------------------------------------------------------------------------- everyone
UDAVIT_NOT_CONDITIONAL_ES = (
    "La asistencia y protección no están condicionadas a que la víctima declare ni a que "
    "colabore con la investigación."
)
UDAVIT_NOT_CONDITIONAL_EN = (
    "Assistance and protection are not conditional on the victim testifying or cooperating "
    "with the investigation."
)


def rule_e1_victim_assistance(plan: _PlanBuilder) -> None:
    """E1: police operation or open investigation → UDAVIT; help never depends on testimony."""
    context = plan.facts.identification_context
    if context not in INVESTIGATION_CONTEXTS:
        return
    ctx_es, ctx_en = _CONTEXT_LABELS[context]
    plan.propose(
        "E1",
        "udavit",
        RECOMMENDED,
        Reason(
            "e1_udavit_not_conditional",
            f"E1 — Identificada en {ctx_es}: se recomienda la Unidad de Asistencia a Víctimas "
            "y Testigos (UDAVIT) del Ministerio Público. " + UDAVIT_NOT_CONDITIONAL_ES,
            f"E1 — Identified in {ctx_en}: the Public Prosecutor's Victim and Witness "
            "Assistance Unit (UDAVIT) is recommended. " + UDAVIT_NOT_CONDITIONAL_EN,
        ),
    )


def rule_e2_foreign(plan: _PlanBuilder) -> None:
    """E2: foreigner → Migraciones and IOM; asylum → CEPR and ACNUR, NEVER a consulate.

    A recorded asylum claim also triggers E2 when the nationality is unknown. For an asylum
    seeker or refugee, Migraciones and IOM are proposed only when the consent scope names
    them (no return assistance while a claim is pending; "all" is not explicit enough).
    Otherwise a consulate only with explicit consent: the scope must list ``consulate``
    ("all" is not explicit enough to tell a person's State where they are).
    """
    facts = plan.facts
    asylum = "asylum_seeker" in facts.tags
    if "foreign" not in facts.tags and not asylum:
        return
    nat = ", ".join(facts.nationality) or "nacionalidad no registrada"
    nat_en = ", ".join(facts.nationality) or "nationality not recorded"
    consent = facts.consent_service_types or frozenset()
    if asylum:
        plan.propose(
            "E2",
            "refugee_cepr",
            RECOMMENDED,
            Reason(
                "e2_asylum_cepr_never_consulate",
                "E2 — Solicitante de refugio o persona refugiada: se recomienda la Comisión "
                "Especial para los Refugiados (CEPR). Nunca se deriva ni se informa al "
                "consulado de su país.",
                "E2 — Asylum seeker or refugee: the Special Commission for Refugees (CEPR) is "
                "recommended. Never referred to or reported to their country's consulate.",
            ),
        )
        plan.propose(
            "E2",
            "unhcr",
            RECOMMENDED,
            Reason(
                "e2_asylum_unhcr",
                "E2 — Solicitante de refugio o persona refugiada: se recomienda el ACNUR "
                "(Agencia de la ONU para los Refugiados) o sus socios.",
                "E2 — Asylum seeker or refugee: UNHCR (the UN Refugee Agency) or its "
                "partners are recommended.",
            ),
        )
    if not asylum or "migration_migraciones" in consent:
        plan.propose(
            "E2",
            "migration_migraciones",
            RECOMMENDED,
            _e2_migraciones_reason(asylum, nat, nat_en),
        )
    if not asylum or "iom" in consent:
        plan.propose("E2", "iom", RECOMMENDED, _e2_iom_reason(asylum, nat, nat_en))
    if asylum:
        return
    if CONSULATE_CONSENT_SCOPE in consent:
        plan.propose(
            "E2",
            "consulate",
            RECOMMENDED,
            Reason(
                "e2_consulate_explicit_consent",
                f"E2 — Persona extranjera ({nat}) que consintió expresamente el contacto con "
                "su consulado: se propone el consulado de su país.",
                f"E2 — Foreign national ({nat_en}) who explicitly consented to contact with "
                "their consulate: their country's consulate is proposed.",
            ),
        )


def _e2_migraciones_reason(asylum: bool, nat: str, nat_en: str) -> Reason:
    if asylum:
        return Reason(
            "e2_asylum_migraciones_explicit_consent",
            f"E2 — Solicitante de refugio ({nat}) que consintió expresamente la derivación a "
            "Migraciones: se propone Migraciones.",
            f"E2 — Asylum seeker ({nat_en}) who explicitly consented to a referral to "
            "Migraciones: Migraciones is proposed.",
        )
    return Reason(
        "e2_foreign_migraciones",
        f"E2 — Persona extranjera ({nat}): se recomienda Migraciones para regularización "
        "o residencia humanitaria y exoneración de multas.",
        f"E2 — Foreign national ({nat_en}): Migraciones is recommended for "
        "regularisation or humanitarian residence and a fine waiver.",
    )


def _e2_iom_reason(asylum: bool, nat: str, nat_en: str) -> Reason:
    if asylum:
        return Reason(
            "e2_asylum_iom_explicit_consent",
            f"E2 — Solicitante de refugio ({nat}) que consintió expresamente la derivación a "
            "la OIM: se propone la Organización Internacional para las Migraciones (OIM); "
            "no se ofrece retorno mientras la solicitud esté en trámite.",
            f"E2 — Asylum seeker ({nat_en}) who explicitly consented to a referral to IOM: "
            "the International Organization for Migration (IOM) is proposed; no return "
            "assistance while the claim is pending.",
        )
    return Reason(
        "e2_foreign_iom",
        f"E2 — Persona extranjera ({nat}): se recomienda la Organización Internacional "
        "para las Migraciones (OIM).",
        f"E2 — Foreign national ({nat_en}): the International Organization for Migration "
        "(IOM) is recommended.",
    )


def rule_e3_labour(plan: _PlanBuilder) -> None:
    """E3: labour purposes (incl. begging) → labour inspection (SUNAFIL)."""
    purposes = sorted(plan.facts.purposes & E3_LABOUR_PURPOSES)
    if not purposes:
        return
    es = ", ".join(codes.PURPOSE.label(p, "es").lower() for p in purposes)
    en = ", ".join(codes.PURPOSE.label(p, "en").lower() for p in purposes)
    plan.propose(
        "E3",
        "labor_inspection_sunafil",
        RECOMMENDED,
        Reason(
            "e3_labour_sunafil",
            f"E3 — Finalidad de explotación laboral ({es}): se recomienda la inspección de "
            "trabajo (SUNAFIL).",
            f"E3 — Labour exploitation purpose ({en}): labour inspection (SUNAFIL) is recommended.",
        ),
    )


def rule_e4_health(plan: _PlanBuilder, *, needs_only: bool) -> None:
    """E4: sexual purpose, organ removal, pregnancy, ``medical`` need or abuse indicator →
    MINSA. Organ removal also raises the alert ``urgent_medical_care``."""
    facts = plan.facts
    triggers: list[tuple[str, str]] = []
    organ_removal = not needs_only and "organ_removal" in facts.purposes
    if not needs_only:
        if facts.purposes & SEXUAL_PURPOSES:
            triggers.append(("finalidad de explotación sexual", "sexual exploitation purpose"))
        if organ_removal:
            triggers.append(("finalidad de extracción de órganos", "organ removal purpose"))
        if facts.pregnant:
            triggers.append(("embarazo", "pregnancy"))
    if "medical" in facts.needs:
        triggers.append(("necesidad de atención médica", "medical need"))
    if not needs_only:
        if "physical_abuse" in facts.indicators:
            triggers.append(("indicador de abuso físico", "physical abuse indicator"))
        if "sexual_abuse" in facts.indicators:
            triggers.append(("indicador de abuso sexual", "sexual abuse indicator"))
    if not triggers:
        return
    es = ", ".join(t[0] for t in triggers)
    en = ", ".join(t[1] for t in triggers)
    plan.propose(
        "E4",
        "health_minsa",
        RECOMMENDED,
        Reason(
            "e4_health_minsa",
            f"E4 — {es[0].upper() + es[1:]}: se recomienda atención en un establecimiento de "
            "salud (MINSA).",
            f"E4 — {en[0].upper() + en[1:]}: care at a health facility (MINSA) is recommended.",
        ),
    )
    if organ_removal:
        plan.alert(
            Alert(
                "urgent_medical_care",
                "E4 — Finalidad de extracción de órganos: se necesita atención médica "
                "urgente; acompañe a la persona a un establecimiento de salud sin esperar "
                "las demás derivaciones.",
                "E4 — Organ removal purpose: urgent medical care is needed; take the person "
                "to a health facility without waiting for the other referrals.",
            )
        )


def rule_e5_interpreter(plan: _PlanBuilder) -> None:
    """E5: indigenous language or ``interpreter`` need → interpreter on every referral.

    The language is the first non-Spanish language recorded (``None`` if none is). It is
    applied to all referrals of the plan, including E6's. The alert is raised when there is
    at least one referral or the ``interpreter`` need is recorded.
    """
    facts = plan.facts
    if "indigenous_language" not in facts.tags and "interpreter" not in facts.needs:
        return
    language = next((lang for lang in facts.languages if lang != "es"), None)
    plan.interpreter_language = language
    if not plan.has_proposals() and "interpreter" not in facts.needs:
        return
    if language is None:
        lang_es, lang_en = "idioma no registrado", "language not recorded"
    else:
        lang_es, lang_en = _label(codes.LANGUAGE, language)
    plan.alert(
        Alert(
            "interpreter_needed",
            f"E5 — Se necesita intérprete ({lang_es}): cada derivación indica el idioma y "
            "ninguna entrevista debe hacerse sin intérprete.",
            f"E5 — An interpreter is needed ({lang_en}): every referral carries the language "
            "and no interview should take place without an interpreter.",
        )
    )


def rule_e6_psychological(plan: _PlanBuilder) -> None:
    """E6: ``psychological`` need → CEM for women and children, otherwise NGO services.

    For a child the CEM referral is coordinated through the UPE (the text says so) and, like
    every recommended child referral, needs the consent of the legal representative or UPE.
    """
    facts = plan.facts
    if "psychological" not in facts.needs:
        return
    if facts.is_child:
        plan.propose(
            "E6",
            "cem",
            RECOMMENDED,
            Reason(
                "e6_psychological_cem_child_via_upe",
                "E6 — Necesidad de atención psicológica de una persona menor de edad: se "
                "recomienda el Centro Emergencia Mujer (CEM), coordinado a través de la UPE.",
                "E6 — Psychological need of a child: the Women's Emergency Centre (CEM) is "
                "recommended, coordinated through the UPE.",
            ),
        )
    elif facts.is_woman_or_girl:
        words = _words(facts)
        plan.propose(
            "E6",
            "cem",
            RECOMMENDED,
            Reason(
                "e6_psychological_cem",
                f"E6 — Necesidad de atención psicológica ({words.short_es or 'mujer'}): se "
                "recomienda el Centro Emergencia Mujer (CEM).",
                f"E6 — Psychological need ({words.short_en or 'female'}): the Women's "
                "Emergency Centre (CEM) is recommended.",
            ),
        )
    else:
        plan.propose(
            "E6",
            "ngo_services",
            RECOMMENDED,
            Reason(
                "e6_psychological_ngo_services",
                "E6 — Necesidad de atención psicológica: se recomiendan servicios de ONG.",
                "E6 — Psychological need: NGO services are recommended.",
            ),
        )


def rule_e7_every_need_answered(plan: _PlanBuilder) -> None:
    """E7: every recorded need yields at least one referral or a gap.

    ``return_assistance`` → IOM for a foreigner not seeking asylum; ``legal`` → public
    legal aid when A1 did not propose it. Any need still without a referral of one of its
    types (:data:`NEED_SERVICE_TYPES`) gets the gap ``no_service_for_need`` naming it. A
    referral without a provider counts: its own gap already explains why.
    """
    facts = plan.facts
    foreign_no_asylum = "foreign" in facts.tags and "asylum_seeker" not in facts.tags
    if "return_assistance" in facts.needs and foreign_no_asylum:
        plan.propose(
            "E7",
            "iom",
            RECOMMENDED,
            Reason(
                "e7_return_assistance_iom",
                "E7 — Necesidad de retorno a su lugar de origen (persona extranjera que no "
                "solicita refugio): se recomienda la OIM para el retorno voluntario.",
                "E7 — Return assistance need (foreign national not seeking asylum): IOM is "
                "recommended for assisted voluntary return.",
            ),
        )
    if "legal" in facts.needs and plan.proposal("legal_aid_minjusdh") is None:
        plan.propose(
            "E7",
            "legal_aid_minjusdh",
            RECOMMENDED,
            Reason(
                "e7_legal_need_legal_aid",
                "E7 — Necesidad de orientación y defensa legal: se recomienda la defensa "
                "pública de víctimas (MINJUSDH).",
                "E7 — Legal assistance need: public legal aid for victims (MINJUSDH) is "
                "recommended.",
            ),
        )
    proposed = plan.proposed_types()
    for need in sorted(facts.needs):
        if need == "interpreter":
            continue  # answered by E5
        if proposed & NEED_SERVICE_TYPES.get(need, frozenset()):
            continue
        need_es, need_en = _label(codes.NEED, need)
        why_es = why_en = ""
        if need == "return_assistance":
            if "asylum_seeker" in facts.tags:
                why_es = " (no se ofrece retorno mientras haya una solicitud de refugio)"
                why_en = " (no return assistance while an asylum claim is pending)"
            else:
                why_es = " (la OIM asiste el retorno de personas extranjeras)"
                why_en = " (IOM assists the return of foreign nationals)"
        plan.gap(
            Gap(
                "no_service_for_need",
                None,
                f"E7 — Ningún servicio del directorio responde a la necesidad registrada "
                f"«{need_es}»{why_es}; debe atenderse por otros medios.",
                f"E7 — No service in the directory meets the recorded need "
                f"“{need_en}”{why_en}; it must be met by other means.",
                need=need,
            )
        )


# ============================================================== RE-ROUTING (domain.md §5)
REROUTE_REASON_CODE = "reroute_after_decline"
_INITIAL_ES, _INITIAL_EN = "Derivación inicial — ", "Initial referral — "


def reroute_reason(
    facts: ReferralFacts,
    service_type: str,
    declined: tuple[ProviderFacts, ...],
    decline_reason: str,
    chosen: ProviderFacts | None,
) -> Reason:
    """Why a re-routed referral goes where it goes: who declined (and why), who is
    proposed now and where, relative to the region of identification (nearest eligible
    provider after the decline); or that none is left (the gap then explains)."""
    label_es, label_en = _label(codes.SERVICE_TYPE, service_type)
    why_es, why_en = _label(codes.DECLINE_REASON, decline_reason)
    last = declined[-1] if declined else None
    if last is not None:
        where_es, where_en = _region(last.region)
        by_es = f"{last.name} ({last.code}, {where_es}) rechazó la derivación (motivo: {why_es})"
        by_en = f"{last.name} ({last.code}, {where_en}) declined the referral (reason: {why_en})"
    else:
        by_es = f"El proveedor rechazó la derivación (motivo: {why_es})"
        by_en = f"The provider declined the referral (reason: {why_en})"
    earlier = [p.code for p in declined[:-1]]
    if earlier:
        by_es += f"; antes la rechazaron: {', '.join(earlier)}"
        by_en += f"; declined earlier by: {', '.join(earlier)}"
    home_es, home_en = _region(facts.region)
    if chosen is None:
        return Reason(
            REROUTE_REASON_CODE,
            f"Derivación redirigida — {by_es}. No queda ningún otro proveedor elegible de "
            f"{label_es}; la brecha registrada explica por qué.",
            f"Re-routed referral — {by_en}. There is no other eligible provider of "
            f"{label_en} left; the recorded gap explains why.",
        )
    at_es, at_en = _region(chosen.region)
    if chosen.region == facts.region:
        near_es = f"otro proveedor de la misma región de identificación ({home_es})"
        near_en = f"another provider in the same region of identification ({home_en})"
    else:
        near_es = (
            f"el proveedor elegible más cercano a la región de identificación ({home_es}) "
            "tras el rechazo"
        )
        near_en = (
            f"the nearest eligible provider to the region of identification ({home_en}) "
            "after the decline"
        )
    return Reason(
        REROUTE_REASON_CODE,
        f"Derivación redirigida — {by_es}. Se propone {chosen.name} ({chosen.code}, "
        f"{at_es}): {near_es}.",
        f"Re-routed referral — {by_en}. {chosen.name} ({chosen.code}, {at_en}) is "
        f"proposed: {near_en}.",
    )


def mark_initial_reason(reason: Mapping[str, str]) -> dict[str, str]:
    """An original reason kept on a re-routed referral, marked as the initial referral's
    (its "region of identification" wording no longer describes the new provider)."""
    es, en = reason["es"], reason["en"]
    if not es.startswith(_INITIAL_ES):
        es = _INITIAL_ES + es
    if not en.startswith(_INITIAL_EN):
        en = _INITIAL_EN + en
    return {"code": reason["code"], "es": es, "en": en}


def _region(code: str) -> tuple[str, str]:
    """``región Cusco`` / ``Cusco region`` style names (the code when unknown)."""
    name_es, name_en = _label(codes.REGION, code)
    return f"región {name_es}", f"{name_en} region"


# ===================================================================== PROVIDER CHOICE
def eligible(provider: ProviderFacts, facts: ReferralFacts) -> tuple[bool, str | None]:
    """Whether the provider's eligibility accepts the person (capacity is separate).

    Returns ``(True, None)`` or ``(False, code)`` with a code of ``INELIGIBILITY_REASONS``.
    Unknown exact age: the provider's age range must overlap the presumed band (0–17 for a
    presumed child, 18+ otherwise); admission checks the real age later (domain.md §6).
    """
    if not provider.is_active:
        return False, "inactive"
    if not _age_fits(provider, facts):
        return False, "age_out_of_range"
    if provider.sexes != "any" and provider.sexes != facts.residential_sex:
        return False, "sex_not_served"
    if provider.is_residential and facts.is_gender_diverse and not provider.accepts_transgender:
        return False, "transgender_not_accepted"
    if "foreign" in facts.tags and not provider.accepts_foreign:
        return False, "foreign_not_accepted"
    if provider.nationalities and not set(provider.nationalities) & set(facts.nationality):
        return False, "nationality_not_served"
    if provider.serves and not provider.serves & facts.tags:
        return False, "profile_not_served"
    return True, None


def choose_provider(
    service_type: str,
    facts: ReferralFacts,
    providers: Iterable[ProviderFacts],
    region_coords: Mapping[str, tuple[float, float]],
    exclude_codes: frozenset[str] = frozenset(),
    prefer_24_7: bool = False,
) -> tuple[ProviderFacts | None, Gap | None]:
    """The provider to propose for one service type, or the gap explaining why none.

    ``exclude_codes`` removes providers that already declined (domain.md §5 re-routing).
    """
    return _choose(
        (service_type,), facts, tuple(providers), region_coords, exclude_codes, prefer_24_7
    )


def _choose(
    service_types: tuple[str, ...],
    facts: ReferralFacts,
    providers: tuple[ProviderFacts, ...],
    region_coords: Mapping[str, tuple[float, float]],
    exclude_codes: frozenset[str],
    prefer_24_7: bool,
) -> tuple[ProviderFacts | None, Gap | None]:
    """Eligible + free providers, ranked: same region, nearest, 24/7, language, occupancy, code.

    Gaps (§3): ``capacity_full`` when every provider accepting the person is full;
    ``no_provider_for_profile`` when providers of the type exist but none accepts the
    person; ``no_provider_in_region`` when no provider of the type is left in any region.
    """
    of_type = [
        p
        for p in providers
        if p.service_type in service_types and p.is_active and p.code not in exclude_codes
    ]
    verdicts = [(p, eligible(p, facts)) for p in of_type]
    accepting = [p for p, (ok, _why) in verdicts if ok]
    available = [p for p in accepting if p.has_free_capacity]
    if available:
        out_of_hours = prefer_24_7 or not OFFICE_HOURS.is_open(facts.identified_at)
        best = min(available, key=lambda p: _rank(p, facts, region_coords, out_of_hours))
        return best, None

    service_type = service_types[0]
    label_es, label_en = _label(codes.SERVICE_TYPE, service_type)
    other_es = " además de los que ya rechazaron la derivación" if exclude_codes else ""
    other_en = " other than those that already declined" if exclude_codes else ""
    if accepting:
        full = ", ".join(sorted(p.code for p in accepting))
        return None, Gap(
            "capacity_full",
            service_type,
            f"Todos los proveedores de {label_es} que aceptan a la persona están llenos "
            f"({full}){other_es}.",
            f"Every {label_en} provider that accepts the person is full ({full}){other_en}.",
        )
    if of_type:
        why = Counter(why for _p, (_ok, why) in verdicts if why)
        why_es = ", ".join(_INELIGIBILITY_LABELS[w][0] for w, _n in why.most_common())
        why_en = ", ".join(_INELIGIBILITY_LABELS[w][1] for w, _n in why.most_common())
        return None, Gap(
            "no_provider_for_profile",
            service_type,
            f"Ningún proveedor de {label_es}{other_es} acepta el perfil de la persona "
            f"(motivos: {why_es}).",
            f"No {label_en} provider{other_en} accepts the person's profile (reasons: {why_en}).",
        )
    return None, Gap(
        "no_provider_in_region",
        service_type,
        f"No hay ningún proveedor activo de {label_es} en ninguna región del directorio{other_es}.",
        f"There is no active {label_en} provider in any region of the directory{other_en}.",
    )


def _rank(
    provider: ProviderFacts,
    facts: ReferralFacts,
    region_coords: Mapping[str, tuple[float, float]],
    out_of_hours: bool,
) -> tuple[int, float, int, int, int, str]:
    """Sort key; lower is better. Unknown distances (e.g. region ``abroad``) rank last."""
    same_region = 0 if provider.region == facts.region else 1
    distance = region_distance_km(facts.region, provider.region, region_coords)
    open_24_7 = 0 if (out_of_hours and provider.hours.is_always_open) else 1
    # "A shared language": more of the person's languages shared ranks first, so a
    # Quechua and Spanish speaker gets the provider speaking both over Spanish only.
    shared = len(set(facts.languages) & set(provider.languages))
    return (
        same_region,
        float("inf") if distance is None else distance,
        open_24_7,
        -shared,
        provider.occupancy,
        provider.code,
    )


def _age_fits(provider: ProviderFacts, facts: ReferralFacts) -> bool:
    if facts.age_years is not None:
        return provider.min_age <= facts.age_years <= provider.max_age
    low, high = (0, 17) if facts.is_child else (18, 10_000)
    return provider.min_age <= high and provider.max_age >= low


# ======================================================================= PLAN ASSEMBLY
@dataclass
class _Draft:
    rule: str
    service_type: str
    priority: str
    provider: ProviderFacts | None
    requires_consent: bool
    reasons: list[Reason]
    gap: Gap | None


@dataclass
class _PlanBuilder:
    """Collects proposals, gaps and alerts while the rules run; merges duplicates."""

    facts: ReferralFacts
    providers: tuple[ProviderFacts, ...]
    region_coords: Mapping[str, tuple[float, float]]
    interpreter_language: str | None = None
    _drafts: dict[str, _Draft] = field(default_factory=dict)
    _gaps: dict[tuple[str, str | None, str | None], Gap] = field(default_factory=dict)
    _alerts: dict[str, Alert] = field(default_factory=dict)

    def propose(
        self,
        rule: str,
        service_type: str,
        priority: str,
        reason: Reason,
        *,
        among: tuple[str, ...] | None = None,
        prefer_24_7: bool = False,
        info_gap: Gap | None = None,
        gap_when_no_type: str | None = None,
    ) -> _Draft:
        """Propose a service (one referral per type: a second rule merges its reasons).

        ``among``: choose across several residential types (A3); the referral then takes
        the chosen provider's type. ``gap_when_no_type`` renames ``no_provider_in_region``
        where a rule names its own gap (A3 men: ``no_provider_for_profile``).
        """
        requires_consent = _requires_consent(rule, self.facts)
        existing = self._drafts.get(service_type)
        if existing is not None:
            existing.reasons.append(reason)
            if _PRIORITY_RANK[priority] < _PRIORITY_RANK[existing.priority]:
                existing.priority = priority
                existing.requires_consent = requires_consent
            elif priority == existing.priority:
                existing.requires_consent = existing.requires_consent or requires_consent
            if info_gap is not None:
                self.gap(info_gap)
            return existing
        provider, gap = _choose(
            among or (service_type,),
            self.facts,
            self.providers,
            self.region_coords,
            frozenset(),
            prefer_24_7,
        )
        if provider is not None:
            service_type = provider.service_type
        if gap is not None and gap_when_no_type and gap.code == "no_provider_in_region":
            gap = Gap(gap_when_no_type, gap.service_type, gap.es, gap.en)
        if info_gap is not None:
            self.gap(info_gap)
        if gap is not None:
            self.gap(gap)
        existing = self._drafts.get(service_type)
        if existing is not None:  # A3 landed on a type another rule already proposed
            return self.propose(rule, service_type, priority, reason)
        draft = _Draft(
            rule=rule,
            service_type=service_type,
            priority=priority,
            provider=provider,
            requires_consent=requires_consent,
            reasons=[reason],
            gap=gap or info_gap,
        )
        self._drafts[service_type] = draft
        return draft

    def proposal(self, service_type: str) -> _Draft | None:
        return self._drafts.get(service_type)

    def has_proposals(self) -> bool:
        return bool(self._drafts)

    def proposed_types(self) -> frozenset[str]:
        return frozenset(self._drafts)

    def gap(self, gap: Gap) -> None:
        self._gaps.setdefault((gap.code, gap.service_type, gap.need), gap)

    def attach_gap(self, service_type: str, gap: Gap) -> None:
        """Record a gap and show it on the referral when that referral has a provider."""
        self.gap(gap)
        draft = self._drafts.get(service_type)
        if draft is not None and draft.provider is not None:
            draft.gap = gap

    def alert(self, alert: Alert) -> None:
        self._alerts.setdefault(alert.code, alert)

    def upe_closed_at_identification(self) -> datetime | None:
        """C5's condition: when the chosen UPE was closed at identification, its next
        opening counted from the referral's creation (never a time in the past)."""
        upe = self._drafts.get("mimp_upe")
        if upe is None or upe.provider is None:
            return None
        hours = upe.provider.hours
        if hours.is_open(self.facts.identified_at):
            return None
        return hours.next_opening(self.facts.opening_reference)

    def build(self) -> ReferralPlan:
        proposals = tuple(
            Proposal(
                rule=d.rule,
                service_type=d.service_type,
                priority=d.priority,
                provider=d.provider,
                requires_consent=d.requires_consent,
                due_at=self.facts.identified_at
                + (MANDATORY_DUE if d.priority == MANDATORY else RECOMMENDED_DUE),
                interpreter_language=self.interpreter_language,
                reasons=tuple(d.reasons),
                gap=d.gap,
            )
            for d in self._drafts.values()
        )
        return ReferralPlan(
            proposals=proposals,
            gaps=tuple(self._gaps.values()),
            alerts=tuple(self._alerts.values()),
            rule_version=RULE_VERSION,
        )


def _requires_consent(rule: str, facts: ReferralFacts) -> bool:
    """Adults: always. Children: not for C1/C2; other child referrals need the consent of
    the legal representative or the UPE (domain.md §4 lets them give it)."""
    return not (facts.is_child and rule in ("C1", "C2"))


# ================================================================================ TEXTS
def _words(facts: ReferralFacts) -> gender.Words:
    """Words follow gender identity when recorded (domain.md §2; core/gender.py)."""
    age = "child" if facts.is_child else "unknown" if "age_unknown" in facts.tags else "adult"
    return gender.words(facts.sex, facts.gender_identity, age)


def _who(facts: ReferralFacts) -> tuple[str, str]:
    """Short bilingual description of the profile that triggered a rule."""
    words = _words(facts)
    sex_es = f", {words.short_es}" if words.short_es else ""
    sex_en = f", {words.short_en}" if words.short_en else ""
    if facts.age_years is not None:
        age_es, age_en = f", {facts.age_years} años", f", {facts.age_years} years old"
    else:
        age_es, age_en = "", ""
    if facts.is_child:
        if facts.age_years is None:
            age_es = ", edad no determinada (se presume menor de edad)"
            age_en = ", age not established (presumed a minor)"
        return f"menor de edad{sex_es}{age_es}", f"under 18{sex_en}{age_en}"
    if "age_unknown" in facts.tags:
        return (
            f"persona de edad desconocida{sex_es}, se aplican las reglas de adultos",
            f"person of unknown age{sex_en}, adult rules apply",
        )
    return f"persona adulta{sex_es}{age_es}", f"adult{sex_en}{age_en}"


def _when(at: datetime) -> tuple[str, str]:
    """The same moment in both languages, in the one format of every page (core/time.py)."""
    es = f"{lima_text(at, 'es', weekday=True)}, hora de Lima"
    en = f"{lima_text(at, 'en', weekday=True)}, Lima time"
    return es, en


_CONTEXT_LABELS = {
    "police_operation": ("un operativo policial", "a police operation"),
    "prosecutor_investigation": (
        "el marco de una investigación fiscal abierta",
        "the course of an open prosecutor's investigation",
    ),
}


def _label(code_list: codes.CodeList, code: str) -> tuple[str, str]:
    """Spanish and English labels; the code itself if the list does not know it."""
    if code in code_list:
        return code_list.label(code, "es"), code_list.label(code, "en")
    return code, code


_INELIGIBILITY_LABELS = {
    "inactive": ("inactivo", "inactive"),
    "age_out_of_range": ("edad", "age"),
    "sex_not_served": ("sexo o identidad de género", "sex or gender identity"),
    "transgender_not_accepted": ("no acepta personas trans", "does not take transgender people"),
    "foreign_not_accepted": ("no acepta personas extranjeras", "does not take foreigners"),
    "nationality_not_served": ("nacionalidad", "nationality"),
    "profile_not_served": ("dedicado a otro perfil", "dedicated to another profile"),
}

__all__ = [
    "RULE_VERSION",
    "Alert",
    "Gap",
    "Proposal",
    "ProviderFacts",
    "ReferralFacts",
    "ReferralPlan",
    "choose_provider",
    "eligible",
    "plan_referrals",
]


# ============================================================================ CONSENT
def consent_covers(scope: frozenset[str] | None, service_type: str) -> bool:
    """Does a recorded, given consent with ``scope`` cover a referral of this type?

    ``all`` covers every proposed referral except the consulate, which needs consent
    that names it (E2: contact with the person's State can endanger them).
    """
    if not scope:
        return False
    if service_type == CONSULATE_CONSENT_SCOPE:
        return CONSULATE_CONSENT_SCOPE in scope
    return "all" in scope or service_type in scope


def forbidden_consent_scope(tags: Iterable[str]) -> frozenset[str]:
    """Service types a consent for this person may not name (E2): an asylum seeker or
    refugee is never referred to their State's consulate, so consent is not offered."""
    return frozenset({CONSULATE_CONSENT_SCOPE}) if "asylum_seeker" in set(tags) else frozenset()


#: Lifecycle (domain.md §5): which transitions each action may make.
OPEN_STATUSES = frozenset({"pending_consent", "unassigned", "ready", "sent", "accepted"})
NOT_YET_ACCEPTED = frozenset({"pending_consent", "unassigned", "ready", "sent"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "assign": frozenset({"unassigned", "pending_consent", "ready"}),
    "send": frozenset({"ready", "pending_consent"}),
    "accept": frozenset({"sent"}),
    "decline": frozenset({"sent"}),
    "complete": frozenset({"accepted"}),
    "cancel": OPEN_STATUSES,
}


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """§5: a referral ``ready`` or ``sent`` past its due time is overdue."""
    return status in ("ready", "sent") and now > due_at


def initial_status(*, has_provider: bool, requires_consent: bool, consent_ok: bool) -> str:
    """Status of a new referral: no provider → unassigned; needs consent it lacks →
    pending_consent; otherwise ready to send."""
    if not has_provider:
        return "unassigned"
    if requires_consent and not consent_ok:
        return "pending_consent"
    return "ready"
