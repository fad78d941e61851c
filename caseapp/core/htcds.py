"""Crosswalks between Ruta's codes (codes.md) and HTCDS 2.0, the IOM Human Trafficking Case
Data Standard (docs/exchange.md).

One :class:`Crosswalk` per Ruta list that HTCDS also has: each Ruta code either maps to an
HTCDS value name or is listed in ``unmapped`` with the reason (HTCDS has no such value, or
mapping it would state something Ruta does not know). ``from_htcds`` reads a file made by
another system: it names, for every HTCDS value, the Ruta code it means or ``None`` when it
means nothing Ruta records (then the value is dropped, never guessed).

HTCDS value names are the ``Value Names`` of the standard's field reference (Gender,
MethodsOfControl, MethodOfRecruitment, RelationshipToTrafficker, ForcedLabourIndustry
(ISIC Rev. 4 sections), TypeOfExploitation, TraffickingStatus, Case Status, Organisation
Type, Historic Trafficking Event Type). Countries are ISO 3166-1 alpha-2 in HTCDS and
alpha-3 in Ruta; languages ISO 639-2/3 in HTCDS and ISO 639-1/3 in Ruta.

Pure data and functions: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from caseapp.core import codes

HTCDS_VERSION = "2.0"


@dataclass(frozen=True)
class Crosswalk:
    """One Ruta code list and the HTCDS field it corresponds to."""

    ruta_list: str
    htcds_field: str
    to_htcds: Mapping[str, str]
    unmapped: Mapping[str, str] = field(default_factory=dict)
    #: HTCDS value → Ruta code (``None``: recorded nowhere in Ruta)
    from_htcds: Mapping[str, str | None] = field(default_factory=dict)

    def htcds(self, code: str | None) -> str | None:
        """The HTCDS value of a Ruta code; ``None`` for an unmapped (or empty) code."""
        if code is None or code in self.unmapped:
            return None
        return self.to_htcds[code]

    def htcds_many(self, values: Iterable[str]) -> list[str]:
        """HTCDS values of several Ruta codes, each once, in first-seen order."""
        out: list[str] = []
        for value in values:
            mapped = self.htcds(value)
            if mapped is not None and mapped not in out:
                out.append(mapped)
        return out

    def ruta(self, value: str) -> str | None:
        """The Ruta code an HTCDS value means; ``KeyError`` for a value HTCDS does not
        have (the importer reports it), ``None`` for one Ruta does not record."""
        if value in self.from_htcds:
            return self.from_htcds[value]
        raise KeyError(value)

    @property
    def htcds_values(self) -> tuple[str, ...]:
        return tuple(self.from_htcds)


def _freeze(
    ruta_list: str,
    htcds_field: str,
    to_htcds: dict[str, str],
    unmapped: dict[str, str] | None = None,
    reverse: dict[str, str | None] | None = None,
) -> Crosswalk:
    """A crosswalk; the reverse map defaults to the inverse of a one-to-one ``to_htcds``."""
    if reverse is None:
        reverse = {}
        for code, value in to_htcds.items():
            if value in reverse:
                raise ValueError(f"{ruta_list}: {value!r} is not one-to-one; give a reverse map")
            reverse[value] = code
    return Crosswalk(
        ruta_list,
        htcds_field,
        MappingProxyType(dict(to_htcds)),
        MappingProxyType(dict(unmapped or {})),
        MappingProxyType(dict(reverse)),
    )


# --- Person ---------------------------------------------------------------------------

GENDER = _freeze(
    "gender_identity",
    "Gender",
    {
        "feminine": "Feminine",
        "masculine": "Masculine",
        "trans_feminine": "TransgenderFeminine",
        "trans_masculine": "TransgenderMasculine",
        "non_conforming": "NonConforming",
        "not_specified": "NonSpecifiedUnknown",
    },
)

#: HTCDS records gender only. Ruta's sex (which reports and linkage count) travels in the
#: Ruta extension; a file without it gets the sex that its gender implies, else unknown.
SEX = _freeze(
    "sex",
    "Gender",
    {"F": "Feminine", "M": "Masculine"},
    unmapped={
        "intersex": "HTCDS Gender has no value for sex characteristics",
        "unknown": "left empty: HTCDS has no 'unknown' sex",
    },
    reverse={
        "Feminine": "F",
        "Masculine": "M",
        "TransgenderFeminine": "unknown",
        "TransgenderMasculine": "unknown",
        "NonConforming": "unknown",
        "NonSpecifiedUnknown": "unknown",
    },
)

NATIONALITY = _freeze(
    "nationality",
    "Citizenship",
    {c.code: str(c.extra["alpha2"]) for c in codes.NATIONALITY if c.extra.get("alpha2")},
    unmapped={
        c.code: "no ISO 3166-1 alpha-2 code (ICAO code for stateless persons)"
        for c in codes.NATIONALITY
        if not c.extra.get("alpha2")
    },
)

LANGUAGE = _freeze(
    "language",
    "PrimaryLanguage",
    {
        "es": "spa",
        "qu": "que",
        "ay": "aym",
        "ash": "cni",
        "agr": "agr",
        "shp": "shp",
        "en": "eng",
        "pt": "por",
    },
    unmapped={"other": "no particular language: nothing to state in ISO 639"},
)

# --- Victim context ------------------------------------------------------------------

METHODS_OF_CONTROL = _freeze(
    "indicator",
    "MethodsOfControl",
    {
        "debt_bondage": "DebtBondage",
        "withholds_documents": "WithholdsDocuments",
        "restricts_movement": "RestrictsMovement",
        "physical_abuse": "PhysicalAbuse",
        "sexual_abuse": "SexualAbuse",
        "takes_earnings": "TakesEarnings",
        "restricts_financial_access": "RestrictsFinancialAccess",
        "threats": "Threats",
        "threat_law_enforcement": "ThreatOfLawEnforcement",
        "psychological_abuse": "PsychologicalAbuse",
        "false_promises": "FalsePromises",
        "psychoactive_substances": "PsychoactiveSubstances",
        "restricts_medical_care": "RestrictsMedicalCare",
        "excessive_hours": "ExcessiveWorkingHours",
        "uses_children": "UsesChildren",
        "withholds_necessities": "WithholdsNecessities",
        "other": "Other",
        # ILO indicators HTCDS lists no method for: stated as "Other"
        "low_or_no_pay": "Other",
        "hazardous_work": "Other",
        "isolation": "Other",
    },
    reverse={
        "DebtBondage": "debt_bondage",
        "WithholdsDocuments": "withholds_documents",
        "RestrictsMovement": "restricts_movement",
        "PhysicalAbuse": "physical_abuse",
        "SexualAbuse": "sexual_abuse",
        "TakesEarnings": "takes_earnings",
        "RestrictsFinancialAccess": "restricts_financial_access",
        "Threats": "threats",
        "ThreatOfLawEnforcement": "threat_law_enforcement",
        "PsychologicalAbuse": "psychological_abuse",
        "FalsePromises": "false_promises",
        "PsychoactiveSubstances": "psychoactive_substances",
        "RestrictsMedicalCare": "restricts_medical_care",
        "ExcessiveWorkingHours": "excessive_hours",
        "UsesChildren": "uses_children",
        "WithholdsNecessities": "withholds_necessities",
        "Other": "other",
    },
)

TYPE_OF_EXPLOITATION = _freeze(
    "purpose",
    "TypeOfExploitation",
    {
        "sexual_exploitation": "SexualExploitation",
        "slavery": "ForcedLabour",
        "servitude": "ForcedLabour",
        "forced_labour": "ForcedLabour",
        "labour_exploitation": "ForcedLabour",
        # the other forms of art. 129-A have no HTCDS value of their own
        "sale_of_children": "Other",
        "begging": "Other",
        "organ_removal": "Other",
        "forced_criminality": "Other",
        "forced_marriage": "Other",
        "armed_recruitment": "Other",
        "other": "Other",
    },
    reverse={
        "SexualExploitation": "sexual_exploitation",
        "ForcedLabour": "forced_labour",
        "Other": "other",
        "Both": None,  # expanded by the importer into SexualExploitation + ForcedLabour
    },
)

FORCED_LABOUR_INDUSTRY = _freeze(
    "sector",
    "ForcedLabourIndustry",
    {
        "agriculture": "A_AgricultureForestryAndFishing",
        "logging": "A_AgricultureForestryAndFishing",
        "fishing": "A_AgricultureForestryAndFishing",
        "mining": "B_MiningAndQuarrying",
        "manufacturing": "C_Manufacturing",
        "construction": "F_Construction",
        "peddling": "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
        "transportation": "H_TransportationAndStorage",
        "hospitality_bars": "I_AccommodationAndFoodServiceActivities",
        "domestic_work": "T_ActivitiesOfHouseholdsAsEmployers",
    },
    unmapped={
        "begging": "not an industry: HTCDS records begging as a type of exploitation",
        "illicit_activities": "not an ISIC industry (forced criminality)",
        "commercial_sex": "sexual exploitation, not a labour industry",
        "other": "unspecified industry: nothing to state",
        "unknown": "not known: left empty",
    },
    reverse={
        "A_AgricultureForestryAndFishing": "agriculture",
        "B_MiningAndQuarrying": "mining",
        "C_Manufacturing": "manufacturing",
        "D_ElectricityGasSteamAndAirConditioningSupply": "other",
        "E_WaterSupplySewerageWasteManagement": "other",
        "F_Construction": "construction",
        "G_WholesaleAndRetailTradeRepairOfMotorVehicles": "peddling",
        "H_TransportationAndStorage": "transportation",
        "I_AccommodationAndFoodServiceActivities": "hospitality_bars",
        "J_InformationAndCommunication": "other",
        "K_FinancialAndInsuranceActivities": "other",
        "L_RealEstateActivities": "other",
        "M_ProfessionalScientificAndTechnicalActivities": "other",
        "N_AdministrativeAndSupportServiceActivities": "other",
        "O_PublicAdministrationAndDefence": "other",
        "P_Education": "other",
        "Q_HumanHealthAndSocialWorkActivities": "other",
        "R_ArtsEntertainmentAndRecreation": "other",
        "S_OtherServiceActivities": "other",
        "T_ActivitiesOfHouseholdsAsEmployers": "domestic_work",
        "U_ActivitiesOfExtraterritorialOrganizations": "other",
    },
)

RELATIONSHIP_TO_TRAFFICKER = _freeze(
    "trafficker_relation",
    "RelationshipToTrafficker",
    {
        "family": "Familial",
        "intimate_partner": "Acquainted",
        "friend_or_acquaintance": "Acquainted",
        "employer_or_agent": "Acquainted",
        "stranger": "Unaquainted",  # sic: the standard's value name
    },
    unmapped={"unknown": "not known: left empty (HTCDS has no 'unknown')"},
    reverse={
        "Familial": "family",
        "Acquainted": "friend_or_acquaintance",
        "Unaquainted": "stranger",
    },
)

METHOD_OF_RECRUITMENT = _freeze(
    "recruitment_method",
    "MethodOfRecruitment",
    {
        "job_offer": "JobOffer",
        "online_social_network": "Internet",
        "online_advertisement": "Internet",
        "family_or_event": "Familial",
        "friend": "Other",
        "abduction": "Abduction",
        "school": "EducationalFacility",
        "other": "Other",
        "unknown": "Unknown",
    },
    reverse={
        "Abduction": "abduction",
        "EducationalFacility": "school",
        "Familial": "family_or_event",
        "Internet": "online_social_network",
        "InternationalMarriageBroker": "other",
        "IntimatePartnerMarriageProposition": "other",
        "JobOffer": "job_offer",
        "PosingAsBenefactor": "other",
        "PublicArea": "other",
        "OfferOfAccommodation": "other",
        "Shelter": "other",
        "Smuggling": "other",
        "Work": "job_offer",
        "Other": "other",
        "Unknown": "unknown",
    },
)

# --- Case and organisation ----------------------------------------------------------

TRAFFICKING_STATUS = _freeze(
    "determination_status",
    "TraffickingStatus",
    {
        # A screening finds indications; it is not a formal identification, so even
        # "indicated" is a possible (presunta) victim in HTCDS terms (docs/exchange.md).
        "indicated": "PossibleVictimOfTrafficking",
        "possible": "PossibleVictimOfTrafficking",
        "not_indicated": "NotAVictimOfTrafficking",
    },
    reverse={
        "PossibleVictimOfTrafficking": "possible",
        "ActualVictimOfTrafficking": "indicated",
        "NotAVictimOfTrafficking": "not_indicated",
    },
)

CASE_STATUS = _freeze(
    "case_status",
    "Status",
    {"open": "Active", "closed": "Closed"},
    reverse={"Active": "open", "FollowUp": "open", "Closed": "closed", "ClosedReferred": "closed"},
)

ORGANISATION_TYPE = _freeze(
    "org_kind",
    "OrganisationType",
    {
        "police": "LawEnforcement",
        "prosecutor": "LawEnforcement",
        "judiciary": "CentralGovernmentOrganisation",
        "mimp": "CentralGovernmentOrganisation",
        "labour": "CentralGovernmentOrganisation",
        "migration": "ImmigrationService",
        "health": "HealthServiceOrganisation",
        "legal_aid": "LegalService",
        "local_government": "LocalGovernmentOrganisation",
        "ngo": "NGO",
    },
    unmapped={
        "international": "HTCDS has no class for intergovernmental organisations (IOM, UNHCR)",
        "other": "unspecified kind: nothing to state",
    },
    reverse={
        "LawEnforcement": "police",
        "CentralGovernmentOrganisation": "other",
        "ImmigrationService": "migration",
        "HealthServiceOrganisation": "health",
        "LegalService": "legal_aid",
        "LocalGovernmentOrganisation": "local_government",
        "NGO": "ngo",
        "CorporateBusiness": "other",
    },
)

#: Historic Trafficking Event types; Ruta's screening knows the region of origin
#: (recruitment) and of exploitation.
EVENT_TYPES = ("Recruitment", "Transit", "Exploitation")

CROSSWALKS: Mapping[str, Crosswalk] = MappingProxyType(
    {
        cw.ruta_list: cw
        for cw in (
            SEX,
            GENDER,
            NATIONALITY,
            LANGUAGE,
            METHODS_OF_CONTROL,
            TYPE_OF_EXPLOITATION,
            FORCED_LABOUR_INDUSTRY,
            RELATIONSHIP_TO_TRAFFICKER,
            METHOD_OF_RECRUITMENT,
            TRAFFICKING_STATUS,
            CASE_STATUS,
            ORGANISATION_TYPE,
        )
    }
)


def country_alpha3(alpha2: str) -> str | None:
    """Ruta's nationality code of an ISO alpha-2 country; ``None`` if there is none."""
    return NATIONALITY.from_htcds.get(alpha2.upper())
