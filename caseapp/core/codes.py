"""Every code list of the system, in one place (codes.md, domain.md, reports.md).

Forms, validators, API schemas, rules and reports all read these lists, so a code is added
or relabelled here once and nowhere else (style.md: "Code lists live in one place").
Spanish is the default UI language; labels are written for a frontline worker in Peru.
Crosswalk columns (`glotip`, `iccs`, `ctdc`, …) live in `Code.extra`.

Regions and countries are loaded from CSV files shipped inside the package
(`caseapp/core/data/`), never from the shared spec folder, so the app has no runtime
dependency outside itself.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

ExtraValue = str | bool
_EMPTY: Mapping[str, ExtraValue] = MappingProxyType({})


def _lang(locale: str) -> str:
    """`en`, `en_US`, `en-GB` → English; anything else → Spanish (the default UI language)."""
    return "en" if str(locale).lower().startswith("en") else "es"


@dataclass(frozen=True, slots=True)
class Code:
    """One code with its labels; `extra` holds crosswalks and flags (e.g. `strong`)."""

    code: str
    es: str
    en: str
    help_es: str | None = None
    help_en: str | None = None
    extra: Mapping[str, ExtraValue] = field(default_factory=lambda: _EMPTY, hash=False)

    def label(self, locale: str = "es") -> str:
        return self.en if _lang(locale) == "en" else self.es

    def help(self, locale: str = "es") -> str | None:
        return self.help_en if _lang(locale) == "en" else self.help_es


@dataclass(frozen=True, slots=True)
class CodeList:
    """An ordered, immutable list of codes; the order is the display order."""

    name: str
    items: tuple[Code, ...]
    _index: Mapping[str, Code] = field(init=False, repr=False, compare=False, hash=False)
    _codes: tuple[str, ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index = {item.code: item for item in self.items}
        if len(index) != len(self.items):
            raise ValueError(f"duplicate code in list {self.name!r}")
        object.__setattr__(self, "_index", MappingProxyType(index))
        object.__setattr__(self, "_codes", tuple(index))

    @property
    def codes(self) -> tuple[str, ...]:
        return self._codes

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._index

    def __iter__(self) -> Iterator[Code]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, code: str) -> Code:
        """The `Code` object; `KeyError` for a code that is not in the list."""
        return self._index[code]

    def label(self, code: str, locale: str = "es") -> str:
        """Label of `code`; `KeyError` if unknown (callers validate before displaying)."""
        return self._index[code].label(locale)

    def choices(self, locale: str = "es") -> list[tuple[str, str]]:
        """`(code, label)` pairs for WTForms `SelectField` / `SelectMultipleField`."""
        return [(item.code, item.label(locale)) for item in self.items]

    def where(self, key: str, value: ExtraValue = True) -> frozenset[str]:
        """Codes whose `extra[key] == value`, to derive rule sets from the list itself."""
        return frozenset(item.code for item in self.items if item.extra.get(key) == value)


def _c(
    code: str,
    es: str,
    en: str,
    help_es: str | None = None,
    help_en: str | None = None,
    **extra: ExtraValue,
) -> Code:
    return Code(code, es, en, help_es, help_en, MappingProxyType(dict(extra)) if extra else _EMPTY)


_UNKNOWN = _c("unknown", "No se sabe", "Unknown")


def _read_csv(filename: str) -> list[dict[str, str]]:
    text = resources.files("caseapp.core").joinpath("data", filename).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


# --- 1. Person -------------------------------------------------------------------------

SEX = CodeList(
    "sex",
    (
        _c("F", "Femenino", "Female"),
        _c("M", "Masculino", "Male"),
        _c("intersex", "Intersexual", "Intersex"),
        _UNKNOWN,
    ),
)

GENDER_IDENTITY = CodeList(
    "gender_identity",
    (
        _c("feminine", "Femenina", "Feminine", collapsed="woman"),
        _c("masculine", "Masculina", "Masculine", collapsed="man"),
        _c(
            "trans_feminine",
            "Mujer trans (trans femenina)",
            "Trans woman (trans feminine)",
            collapsed="trans_or_non_conforming",
            transgender=True,
            lgbtqi=True,
        ),
        _c(
            "trans_masculine",
            "Hombre trans (trans masculino)",
            "Trans man (trans masculine)",
            collapsed="trans_or_non_conforming",
            transgender=True,
            lgbtqi=True,
        ),
        _c(
            "non_conforming",
            "No binaria o no conforme con el género",
            "Non-binary or gender non-conforming",
            collapsed="trans_or_non_conforming",
            lgbtqi=True,
        ),
        _c("not_specified", "No especificada", "Not specified", collapsed="unknown"),
    ),
)

DOCUMENT_TYPE = CodeList(
    "document_type",
    (
        _c("dni", "DNI", "DNI (Peruvian national identity card)"),
        _c("carne_extranjeria", "Carné de extranjería", "Foreigner's card (carné de extranjería)"),
        _c("ptp", "PTP (Permiso Temporal de Permanencia)", "PTP (temporary stay permit)"),
        _c("passport", "Pasaporte", "Passport"),
        _c("cedula_foreign", "Cédula de identidad extranjera", "Foreign identity card"),
        _c("none", "Sin documento", "No document"),
        _c("other", "Otro documento", "Other document"),
    ),
)

LANGUAGE = CodeList(
    "language",
    (
        _c("es", "Castellano (español)", "Spanish"),
        _c("qu", "Quechua", "Quechua", indigenous=True),
        _c("ay", "Aimara", "Aymara", indigenous=True),
        _c("ash", "Asháninka", "Asháninka", indigenous=True),
        _c("agr", "Awajún", "Awajún", indigenous=True),
        _c("shp", "Shipibo-Konibo", "Shipibo-Konibo", indigenous=True),
        _c("en", "Inglés", "English"),
        _c("pt", "Portugués", "Portuguese"),
        _c("other", "Otra lengua", "Other language"),
    ),
)

MIGRATION_STATUS = CodeList(
    "migration_status",
    (
        _c("national", "Nacional (peruana o peruano)", "National (Peruvian)"),
        _c("regular", "Extranjera/o en situación migratoria regular", "Foreigner, regular status"),
        _c(
            "irregular",
            "Extranjera/o en situación migratoria irregular",
            "Foreigner, irregular status",
        ),
        _c("asylum_seeker", "Solicitante de refugio", "Asylum seeker"),
        _c("refugee", "Refugiada o refugiado", "Refugee"),
        _c("stateless", "Apátrida", "Stateless"),
        _UNKNOWN,
    ),
)

NATIONALITY = CodeList(
    "nationality",
    tuple(
        _c(
            row["code"],
            row["es"],
            row["en"],
            alpha2=row["alpha2"],
            common=row["common"] == "true",
        )
        for row in _read_csv("countries.csv")
    ),
)
"""ISO 3166-1 alpha-3 (all 249 countries; names from CLDR `es_PE` / `en`), the most frequent
in Peru first (`common`), plus the ICAO code `XXA` for stateless persons. An unknown
nationality is an empty list, never a guess."""

NATIONALITY_GROUP = CodeList(
    "nationality_group",
    (
        _c("peruvian", "Peruana", "Peruvian"),
        _c("foreign", "Extranjera", "Foreign"),
        _UNKNOWN,
    ),
)

GENDER_IDENTITY_COLLAPSED = CodeList(
    "gender_identity_collapsed",
    (
        _c("woman", "Mujer", "Woman"),
        _c("man", "Hombre", "Man"),
        _c("trans_or_non_conforming", "Trans o no binaria", "Trans or non-conforming"),
        _UNKNOWN,
    ),
)

# --- 2. Age bands (boundaries are whole years, both ends inclusive) ----------------------

AGE_GROUP = CodeList(
    "age_group",
    (
        _c("under_14", "Menor de 14 años", "Under 14"),
        _c("age_14_17", "De 14 a 17 años", "14 to 17"),
        _c("adult", "18 años a más", "18 and over"),
        _UNKNOWN,
    ),
)

UNODC_CATEGORY = CodeList(
    "unodc_category",
    (
        _c("girl", "Niña o adolescente mujer", "Girl", glotip="girls"),
        _c("boy", "Niño o adolescente hombre", "Boy", glotip="boys"),
        _c("woman", "Mujer adulta", "Woman", glotip="women"),
        _c("man", "Hombre adulto", "Man", glotip="men"),
        _UNKNOWN,
    ),
)

MP_BAND = CodeList(
    "mp_band",
    (
        _c("0_12", "0 a 12 años", "0–12"),
        _c("13_17", "13 a 17 años", "13–17"),
        _c("18_24", "18 a 24 años", "18–24"),
        _c("25_34", "25 a 34 años", "25–34"),
        _c("35_44", "35 a 44 años", "35–44"),
        _c("45_64", "45 a 64 años", "45–64"),
        _c("65_plus", "65 años a más", "65 and over"),
        _UNKNOWN,
    ),
)

CTDC_BAND = CodeList(
    "ctdc_band",
    (
        _c("0_8", "0 a 8 años", "0–8", ctdc="0--8"),
        _c("9_17", "9 a 17 años", "9–17", ctdc="9--17"),
        _c("18_20", "18 a 20 años", "18–20", ctdc="18--20"),
        _c("21_23", "21 a 23 años", "21–23", ctdc="21--23"),
        _c("24_26", "24 a 26 años", "24–26", ctdc="24--26"),
        _c("27_29", "27 a 29 años", "27–29", ctdc="27--29"),
        _c("30_38", "30 a 38 años", "30–38", ctdc="30--38"),
        _c("39_47", "39 a 47 años", "39–47", ctdc="39--47"),
        _c("48_plus", "48 años a más", "48 and over", ctdc="48+"),
        _UNKNOWN,
    ),
)

# --- 3–5. Legal elements (art. 129-A) ---------------------------------------------------

ACT = CodeList(
    "act",
    (
        _c(
            "recruitment",
            "Captación",
            "Recruitment",
            "Alguien la buscó, convenció o contactó para llevarla, por ejemplo con una oferta "
            "de trabajo.",
            "Someone sought out, persuaded or contacted the person to take them away, for "
            "example with a job offer.",
        ),
        _c(
            "transport",
            "Transporte",
            "Transport",
            "La llevaron de un lugar a otro, en bus, bote, auto u otro medio.",
            "Someone took the person from one place to another, by bus, boat, car or otherwise.",
        ),
        _c(
            "transfer",
            "Traslado",
            "Transfer",
            "La entregaron o pasaron de una persona o de un lugar a otro, por ejemplo a otro "
            "dueño de local.",
            "The person was handed over from one person or place to another, for example to "
            "another bar owner.",
        ),
        _c(
            "harbouring",
            "Acogida",
            "Harbouring",
            "La alojaron o escondieron en un cuarto, local o campamento para tenerla allí.",
            "Someone lodged or hid the person in a room, venue or camp to keep them there.",
        ),
        _c(
            "receipt",
            "Recepción",
            "Receipt",
            "Alguien la recibió o la recogió al llegar al lugar de destino.",
            "Someone received or picked up the person on arrival at the destination.",
        ),
        _c(
            "retention",
            "Retención",
            "Retention",
            "No la dejan irse: la mantienen en el lugar contra su voluntad.",
            "The person is not allowed to leave and is kept in the place against their will.",
        ),
    ),
)

MEANS = CodeList(
    "means",
    (
        _c(
            "violence",
            "Violencia",
            "Violence",
            "La golpearon, hirieron o usaron la fuerza física contra ella.",
            "Someone hit, injured or used physical force against the person.",
        ),
        _c(
            "threat",
            "Amenaza",
            "Threat",
            "La amenazaron con hacerle daño a ella o a su familia, o con denunciarla.",
            "Someone threatened to harm the person or their family, or to report them.",
        ),
        _c(
            "other_coercion",
            "Otras formas de coacción",
            "Other forms of coercion",
            "La presionaron u obligaron de otra manera, por ejemplo con deudas o chantajes.",
            "The person was pressured or forced in another way, for example with debts or "
            "blackmail.",
        ),
        _c(
            "deprivation_of_liberty",
            "Privación de libertad",
            "Deprivation of liberty",
            "La encerraron o no la dejaban salir.",
            "The person was locked up or not allowed to go out.",
        ),
        _c(
            "fraud",
            "Fraude",
            "Fraud",
            "Usaron documentos, contratos o trámites falsos para aprovecharse de ella.",
            "False documents, contracts or procedures were used to take advantage of the person.",
        ),
        _c(
            "deception",
            "Engaño",
            "Deception",
            "Le ofrecieron algo falso, como un trabajo que no existía o un sueldo que nunca le "
            "pagaron.",
            "The person was offered something false, such as a job that did not exist or a "
            "wage that was never paid.",
        ),
        _c(
            "abuse_of_power",
            "Abuso de poder",
            "Abuse of power",
            "Alguien con autoridad sobre ella (jefe, autoridad o familiar a cargo) se "
            "aprovechó de esa posición.",
            "Someone with authority over the person (boss, official or relative in charge) "
            "took advantage of that position.",
        ),
        _c(
            "abuse_of_vulnerability",
            "Abuso de una situación de vulnerabilidad",
            "Abuse of a position of vulnerability",
            "Se aprovecharon de su necesidad: pobreza, falta de documentos, estar lejos de casa "
            "o no hablar el idioma.",
            "Someone took advantage of the person's need: poverty, lack of documents, being far "
            "from home or not speaking the language.",
        ),
        _c(
            "payments_or_benefits",
            "Pagos o beneficios",
            "Payments or benefits",
            "Dieron o prometieron dinero u otro beneficio a quien la tenía a su cargo, por "
            "ejemplo a sus padres, para que la entregara.",
            "Money or another benefit was given or promised to whoever had control over the "
            "person, for example their parents, to hand them over.",
        ),
    ),
)

PURPOSE = CodeList(
    "purpose",
    (
        _c(
            "sexual_exploitation",
            "Explotación sexual",
            "Sexual exploitation",
            "La usan o quieren usarla en actividades sexuales para que otros ganen dinero, por "
            "ejemplo en bares, prostíbulos o por internet.",
            "The person is or would be used in sexual activities so that others make money, for "
            "example in bars, brothels or online.",
            glotip="sexual exploitation",
            iccs="02041",
            ctdc="isSexualExploit",
            sexual=True,
        ),
        _c(
            "sale_of_children",
            "Venta de niñas, niños o adolescentes",
            "Sale of children",
            "Quieren venderla o entregarla a cambio de dinero u otro beneficio, por ejemplo "
            "para una adopción ilegal.",
            "Someone wants to sell or hand over the child for money or another benefit, for "
            "example for an illegal adoption.",
            glotip="baby selling / illegal adoption",
            iccs="02044",
            ctdc="isOtherExploit",
        ),
        _c(
            "slavery",
            "Esclavitud y prácticas análogas",
            "Slavery and similar practices",
            "La tratan como si fuera propiedad de alguien: la compran, la venden o la controlan "
            "por completo.",
            "The person is treated as someone's property: bought, sold or completely controlled.",
            glotip="forced labour",
            iccs="02042",
            ctdc="isSlaveryAndPractices",
            labour=True,
        ),
        _c(
            "servitude",
            "Servidumbre (incluida la doméstica)",
            "Servitude (including domestic servitude)",
            "La obligan a vivir y trabajar para otra persona, por ejemplo en una casa, sin poder "
            "irse ni decidir.",
            "The person is made to live and work for someone else, for example in a household, "
            "unable to leave or decide.",
            glotip="forced labour",
            iccs="02042",
            ctdc="isForcedLabour",
            labour=True,
        ),
        _c(
            "forced_labour",
            "Trabajos forzados",
            "Forced labour",
            "La obligan a trabajar con amenazas o castigos, sin que pueda negarse o irse.",
            "The person is made to work under threat or punishment and cannot refuse or leave.",
            glotip="forced labour",
            iccs="02042",
            ctdc="isForcedLabour",
            labour=True,
        ),
        _c(
            "labour_exploitation",
            "Explotación laboral",
            "Labour exploitation",
            "La hacen trabajar en condiciones abusivas: jornadas excesivas, sin pago o con pago "
            "mínimo, o en trabajos peligrosos.",
            "The person is made to work in abusive conditions: excessive hours, little or no "
            "pay, or dangerous work.",
            glotip="forced labour",
            iccs="02042",
            ctdc="isForcedLabour",
            labour=True,
        ),
        _c(
            "begging",
            "Mendicidad",
            "Begging",
            "La obligan a pedir dinero en la calle u otros lugares y otros se quedan con lo que "
            "recibe.",
            "The person is made to beg in the street or elsewhere and others keep what they get.",
            glotip="begging",
            iccs="02044",
            ctdc="isOtherExploit",
        ),
        _c(
            "organ_removal",
            "Extracción o tráfico de órganos o tejidos",
            "Removal of or trafficking in organs or tissues",
            "Quieren sacarle órganos o tejidos del cuerpo, como un riñón, para venderlos o "
            "usarlos.",
            "Someone wants to remove organs or tissues, such as a kidney, to sell or use them.",
            glotip="organ removal",
            iccs="02043",
            ctdc="isOrganRemoval",
        ),
        _c(
            "forced_criminality",
            "Actividades delictivas forzadas (forma análoga)",
            "Forced criminal activity",
            "La obligan a cometer delitos, como llevar droga, robar o vender productos ilegales.",
            "The person is made to commit crimes, such as carrying drugs, stealing or selling "
            "illegal goods.",
            glotip="forced criminal activity",
            iccs="02044",
            ctdc="isOtherExploit",
        ),
        _c(
            "forced_marriage",
            "Matrimonio forzado (forma análoga)",
            "Forced marriage",
            "La quieren casar o juntar a la fuerza con alguien, o la entregan como pareja a "
            "cambio de algo.",
            "Someone wants to force the person into marriage or a union, or hands them over as "
            "a partner in exchange for something.",
            glotip="forced marriage",
            iccs="02044",
            ctdc="isForcedMarriage",
        ),
        _c(
            "armed_recruitment",
            "Reclutamiento por grupos armados (forma análoga)",
            "Recruitment by armed groups",
            "La obligan a formar parte de un grupo armado ilegal, para combatir, vigilar o servir.",
            "The person is forced to join an illegal armed group, to fight, keep watch or serve.",
            glotip="other",
            iccs="02044",
            ctdc="isForcedMilitary",
        ),
        _c(
            "other",
            "Otra forma análoga de explotación",
            "Other similar form of exploitation",
            "Otra explotación parecida a las anteriores; descríbala en las notas.",
            "Another exploitation similar to those above; describe it in the notes.",
            glotip="other",
            iccs="02044",
            ctdc="isOtherExploit",
        ),
    ),
)

EXPLOITATION_FORM = CodeList(
    "exploitation_form",
    (
        _c(
            "sexual_exploitation",
            "Explotación sexual",
            "Sexual exploitation",
            glotip="sexual exploitation",
        ),
        _c("forced_labour", "Trabajo forzoso", "Forced labour", glotip="forced labour"),
        _c(
            "mixed_sexual_labour",
            "Explotación sexual y laboral",
            "Mixed sexual and labour",
            glotip="mixed sexual exploitation and forced labour",
        ),
        _c("begging", "Mendicidad", "Begging", glotip="begging"),
        _c("organ_removal", "Extracción de órganos", "Organ removal", glotip="organ removal"),
        _c(
            "sale_of_children",
            "Venta de niñas, niños o adolescentes",
            "Sale of children",
            glotip="baby selling / illegal adoption",
        ),
        _c(
            "forced_criminality",
            "Actividades delictivas forzadas",
            "Forced criminality",
            glotip="forced criminal activity",
        ),
        _c("forced_marriage", "Matrimonio forzado", "Forced marriage", glotip="forced marriage"),
        _c(
            "armed_recruitment",
            "Reclutamiento por grupos armados",
            "Armed recruitment",
            glotip="other",
        ),
        _c("other", "Otra forma de explotación", "Other", glotip="other"),
        _c("multiple_other", "Varias formas de explotación", "Multiple forms", glotip="other"),
        _c("none", "Sin finalidad registrada", "No purpose recorded"),
    ),
)

SECTOR = CodeList(
    "sector",
    (
        _c("agriculture", "Agricultura", "Agriculture", ctdc="typeOfLabourAgriculture"),
        _c("logging", "Tala y extracción de madera", "Logging", ctdc="typeOfLabourOther"),
        _c("mining", "Minería", "Mining", ctdc="typeOfLabourMiningOrDrilling"),
        _c("fishing", "Pesca", "Fishing", ctdc="typeOfLabourAquafarming"),
        _c("construction", "Construcción", "Construction", ctdc="typeOfLabourConstruction"),
        _c("domestic_work", "Trabajo del hogar", "Domestic work", ctdc="typeOfLabourDomesticWork"),
        _c(
            "hospitality_bars",
            "Bares, discotecas, hoteles y restaurantes",
            "Bars, nightclubs, hotels and restaurants",
            ctdc="typeOfLabourHospitality",
        ),
        _c(
            "manufacturing",
            "Manufactura (fábricas y talleres)",
            "Manufacturing",
            ctdc="typeOfLabourManufacturing",
        ),
        _c("begging", "Mendicidad", "Begging", ctdc="typeOfLabourBegging"),
        _c("peddling", "Venta ambulante", "Street vending", ctdc="typeOfLabourPeddling"),
        _c("transportation", "Transporte", "Transportation", ctdc="typeOfLabourTransportation"),
        _c(
            "illicit_activities",
            "Actividades ilícitas",
            "Illicit activities",
            ctdc="typeOfLabourIllicitActivities",
        ),
        _c("commercial_sex", "Comercio sexual", "Commercial sex", ctdc="typeOfSexProstitution"),
        _c("other", "Otro sector", "Other sector", ctdc="typeOfLabourOther"),
        _c("unknown", "No se sabe", "Unknown", ctdc="typeOfLabourNotSpecified"),
    ),
)

# --- 6. Indicators (methods of control) -------------------------------------------------

INDICATOR = CodeList(
    "indicator",
    (
        _c(
            "debt_bondage",
            "Servidumbre por deudas",
            "Debt bondage",
            strong=True,
            ctdc="meansOfControlDebtBondage",
        ),
        _c(
            "withholds_documents",
            "Le retienen sus documentos",
            "Withholds documents",
            strong=True,
            ctdc="meansOfControlWithholdsDocuments",
        ),
        _c(
            "restricts_movement",
            "Le restringen la libertad de movimiento",
            "Restricts movement",
            strong=True,
            ctdc="meansOfControlRestrictsMovement",
        ),
        _c(
            "physical_abuse",
            "Maltrato físico",
            "Physical abuse",
            strong=True,
            ctdc="meansOfControlPhysicalAbuse",
        ),
        _c(
            "sexual_abuse",
            "Violencia sexual",
            "Sexual abuse",
            strong=True,
            ctdc="meansOfControlSexualAbuse",
        ),
        _c(
            "takes_earnings",
            "Le quitan lo que gana",
            "Takes earnings",
            strong=False,
            ctdc="meansOfControlTakesEarnings",
        ),
        _c(
            "restricts_financial_access",
            "No le dejan manejar su dinero",
            "Restricts financial access",
            strong=False,
            ctdc="meansOfControlRestrictsFinancialAccess",
        ),
        _c("threats", "Amenazas", "Threats", strong=False, ctdc="meansOfControlThreats"),
        _c(
            "threat_law_enforcement",
            "La amenazan con la policía o con deportarla",
            "Threat of law enforcement or deportation",
            strong=False,
            ctdc="meansOfControlThreatOfLawEnforcement",
        ),
        _c(
            "psychological_abuse",
            "Maltrato psicológico",
            "Psychological abuse",
            strong=False,
            ctdc="meansOfControlPsychologicalAbuse",
        ),
        _c(
            "false_promises",
            "Falsas promesas",
            "False promises",
            strong=False,
            ctdc="meansOfControlFalsePromises",
        ),
        _c(
            "psychoactive_substances",
            "Le dan alcohol o drogas para controlarla",
            "Psychoactive substances",
            strong=False,
            ctdc="meansOfControlPsychoactiveSubstances",
        ),
        _c(
            "restricts_medical_care",
            "Le impiden recibir atención de salud",
            "Restricts medical care",
            strong=False,
            ctdc="meansOfControlRestrictsMedicalCare",
        ),
        _c(
            "excessive_hours",
            "Jornadas excesivas",
            "Excessive working hours",
            strong=False,
            ctdc="meansOfControlExcessiveWorkingHours",
        ),
        _c(
            "uses_children",
            "Usan a sus hijas o hijos para controlarla",
            "Uses the person's children as leverage",
            strong=False,
            ctdc="meansOfControlUsesChildren",
        ),
        _c(
            "withholds_necessities",
            "Le niegan comida, agua, descanso u otras necesidades",
            "Withholds necessities",
            strong=False,
            ctdc="meansOfControlWithholdsNecessities",
        ),
        _c("low_or_no_pay", "Pago muy bajo o sin pago", "Low or no pay", strong=False),
        _c("hazardous_work", "Trabajo peligroso", "Hazardous work", strong=False),
        _c(
            "isolation",
            "Aislamiento de su familia y de otras personas",
            "Isolation",
            strong=False,
        ),
        _c("other", "Otro indicador", "Other indicator", strong=False, ctdc="meansOfControlOther"),
    ),
)

# --- 7. Context --------------------------------------------------------------------------

IDENTIFICATION_CONTEXT = CodeList(
    "identification_context",
    (
        _c("police_operation", "Operativo policial", "Police operation"),
        _c("prosecutor_investigation", "Investigación fiscal", "Prosecutor's investigation"),
        _c("labour_inspection", "Inspección laboral", "Labour inspection"),
        _c("hotline", "Línea telefónica de denuncia (1818, Línea 100)", "Hotline (1818, Line 100)"),
        _c("health_service", "Establecimiento de salud", "Health service"),
        _c("school", "Institución educativa", "School"),
        _c("ngo_outreach", "Trabajo de campo de una ONG", "NGO outreach"),
        _c("border_control", "Control fronterizo o migratorio", "Border control"),
        _c("self_referral", "Acudió por su cuenta", "Self-referral"),
        _c("family_or_community", "Aviso de la familia o la comunidad", "Family or community"),
        _c("other", "Otro", "Other"),
    ),
)

TRAFFICKER_RELATION = CodeList(
    "trafficker_relation",
    (
        _c("family", "Familiar", "Family member", ctdc="recruiterRelationFamily"),
        _c(
            "intimate_partner",
            "Pareja o expareja",
            "Intimate partner",
            ctdc="recruiterRelationIntimatePartner",
        ),
        _c(
            "friend_or_acquaintance",
            "Amistad o conocido",
            "Friend or acquaintance",
            ctdc="recruiterRelationFriend",
        ),
        _c(
            "employer_or_agent",
            "Empleador, agencia o intermediario",
            "Employer or agent",
            ctdc="recruiterRelationOther",
        ),
        _c("stranger", "Persona desconocida", "Stranger", ctdc="recruiterRelationOther"),
        _UNKNOWN,
    ),
)

RECRUITMENT_METHOD = CodeList(
    "recruitment_method",
    (
        _c("job_offer", "Oferta de trabajo", "Job offer"),
        _c("online_social_network", "Redes sociales", "Online social network"),
        _c("online_advertisement", "Anuncio en internet", "Online advertisement"),
        _c("family_or_event", "Familia, fiesta o evento", "Family or social event"),
        _c("friend", "Por una amistad", "Through a friend"),
        _c("abduction", "Secuestro o rapto", "Abduction"),
        _c("school", "En el colegio", "At school"),
        _c("other", "Otra forma", "Other"),
        _UNKNOWN,
    ),
)

_REGION_EN = {"15": "Lima Region (other provinces)", "1501": "Metropolitan Lima"}

REGION = CodeList(
    "region",
    (
        *(
            _c(
                row["code"],
                row["name"],
                _REGION_EN.get(row["code"], row["name"]),
                capital=row["capital"],
                lat=row["lat"],
                lon=row["lon"],
            )
            for row in _read_csv("regions.csv")
        ),
        _c("abroad", "En el extranjero", "Abroad"),
        _c("unknown", "No se sabe", "Unknown"),
    ),
)
"""INEI departments (`01`…`25`, Lima split into `1501` and `15`), `abroad`, `unknown`."""

# --- 8–9. Needs, alerts, aggravating circumstances -----------------------------------

NEED = CodeList(
    "need",
    (
        _c("shelter", "Alojamiento (albergue)", "Shelter"),
        _c("medical", "Atención médica", "Medical care"),
        _c("psychological", "Atención psicológica", "Psychological support"),
        _c("legal", "Orientación y defensa legal", "Legal assistance"),
        _c("interpreter", "Intérprete", "Interpreter"),
        _c("protection", "Protección y seguridad", "Protection"),
        _c("family_tracing", "Búsqueda de familiares", "Family tracing"),
        _c("documentation", "Documentos de identidad", "Identity documents"),
        _c("financial", "Apoyo económico", "Financial support"),
        _c("education", "Educación", "Education"),
        _c("employment", "Empleo", "Employment"),
        _c("return_assistance", "Retorno a su lugar de origen", "Return assistance"),
    ),
)

ALERT = CodeList(
    "alert",
    (
        _c(
            "age_unknown_verify",
            "Edad desconocida: verifique la edad",
            "Age unknown: verify the person's age",
        ),
        _c(
            "child_not_in_police_station",
            "Niña, niño o adolescente: no debe quedarse en la comisaría; llévelo a un centro "
            "de acogida abierto las 24 horas",
            "Child must not be kept at a police station; take them to a 24/7 residential provider",
        ),
        _c("interpreter_needed", "Se necesita intérprete", "Interpreter needed"),
        _c("possible_duplicate", "Posible registro duplicado", "Possible duplicate record"),
        _c("consent_missing", "Falta el consentimiento", "Consent missing"),
        _c(
            "overdue_mandatory_referral",
            "Derivación obligatoria vencida",
            "Overdue mandatory referral",
        ),
        _c(
            "urgent_medical_care",
            "Atención médica urgente",
            "Urgent medical care",
        ),
    ),
)

AGGRAVATING = CodeList(
    "aggravating",
    (
        _c("victim_under_14", "Víctima menor de 14 años", "Victim under 14"),
        _c("victim_14_17", "Víctima de 14 a 17 años", "Victim aged 14 to 17"),
        _c("pregnant", "Víctima gestante", "Pregnant victim"),
        _c("disability", "Víctima con discapacidad", "Victim with a disability"),
        _c(
            "public_official_involved",
            "Participa un funcionario o servidor público",
            "Public official involved",
        ),
        _c(
            "relative_or_guardian_involved",
            "Participa un familiar o la persona a cargo de la víctima",
            "Relative or guardian involved",
        ),
        _c("multiple_victims", "Varias víctimas", "Multiple victims"),
        _c("criminal_organization", "Organización criminal", "Criminal organization"),
        _c(
            "serious_injury_or_death",
            "Lesión grave o muerte de la víctima",
            "Serious injury or death of the victim",
        ),
    ),
)

# --- Determination (domain.md §1) -------------------------------------------------------

DETERMINATION_STATUS = CodeList(
    "determination_status",
    (
        _c("indicated", "Indicios de trata (presunta víctima)", "Indicated (presumed victim)"),
        _c(
            "possible",
            "Posible trata: requiere más evaluación",
            "Possible (needs further assessment)",
        ),
        _c("not_indicated", "Sin indicios de trata", "Not indicated"),
    ),
)

# --- 10. Services, organizations, referrals, consent, intake ---------------------------

SERVICE_TYPE = CodeList(
    "service_type",
    (
        _c(
            "mimp_upe",
            "Unidad de Protección Especial (UPE) – MIMP",
            "Special Protection Unit (UPE) – MIMP",
        ),
        _c(
            "car_specialized_trafficking",
            "CAR especializado en trata",
            "Residential care centre specialized in trafficking",
            residential=True,
        ),
        _c(
            "car_general",
            "Centro de Acogida Residencial (CAR)",
            "Residential care centre (CAR)",
            residential=True,
        ),
        _c("cem", "Centro Emergencia Mujer (CEM)", "Women's Emergency Centre (CEM)"),
        _c(
            "udavit",
            "UDAVIT – Ministerio Público",
            "Victim and Witness Assistance Unit (UDAVIT) – Public Prosecutor",
        ),
        _c(
            "prosecutor_trafficking",
            "Fiscalía especializada en trata (FISTRAP)",
            "Specialized trafficking prosecutor (FISTRAP)",
        ),
        _c(
            "police_trafficking",
            "PNP – unidad contra la trata de personas",
            "National Police anti-trafficking unit",
        ),
        _c(
            "legal_aid_minjusdh",
            "Defensa pública de víctimas (MINJUSDH)",
            "Public legal aid for victims (MINJUSDH)",
        ),
        _c("ngo_shelter", "Albergue de ONG", "NGO shelter", residential=True),
        _c("ngo_services", "Servicios de ONG", "NGO services"),
        _c("health_minsa", "Establecimiento de salud (MINSA)", "Health facility (MINSA)"),
        _c(
            "labor_inspection_sunafil",
            "Inspección laboral (SUNAFIL)",
            "Labour inspection (SUNAFIL)",
        ),
        _c(
            "migration_migraciones",
            "Superintendencia Nacional de Migraciones",
            "National Migration Authority (Migraciones)",
        ),
        _c(
            "iom",
            "OIM (Organización Internacional para las Migraciones)",
            "IOM (International Organization for Migration)",
        ),
        _c(
            "refugee_cepr",
            "Comisión Especial para los Refugiados (CEPR)",
            "Special Commission for Refugees (CEPR)",
        ),
        _c(
            "unhcr",
            "ACNUR (Agencia de la ONU para los Refugiados) y sus socios",
            "UNHCR (UN Refugee Agency) and its partners",
        ),
        _c("consulate", "Consulado", "Consulate"),
        _c(
            "demuna",
            "DEMUNA (Defensoría Municipal del Niño y del Adolescente)",
            "DEMUNA (municipal child protection office)",
        ),
    ),
)

ORG_KIND = CodeList(
    "org_kind",
    (
        _c("police", "Policía Nacional (PNP)", "Police"),
        _c("prosecutor", "Ministerio Público (Fiscalía)", "Public Prosecutor"),
        _c("judiciary", "Poder Judicial", "Judiciary"),
        _c("mimp", "MIMP", "Ministry of Women (MIMP)"),
        _c("labour", "Trabajo (MTPE / SUNAFIL)", "Labour authority"),
        _c("migration", "Migraciones", "Migration authority"),
        _c("health", "Salud", "Health"),
        _c("legal_aid", "Defensa pública", "Legal aid"),
        _c("local_government", "Municipalidad", "Local government"),
        _c("ngo", "ONG", "NGO"),
        _c("international", "Organismo internacional", "International organization"),
        _c("other", "Otra", "Other"),
    ),
)

GAP = CodeList(
    "gap",
    (
        _c(
            "no_state_shelter_adult_men",
            "El Estado no tiene albergues para hombres adultos",
            "The State has no shelter for adult men",
        ),
        _c(
            "no_shelter_accepting_transgender",
            "No hay albergue que acepte personas trans en la región",
            "No shelter accepting transgender people in the region",
        ),
        _c(
            "no_specialized_shelter_boys",
            "No hay CAR especializado en trata que acoja varones",
            "No specialized shelter accepting boys",
        ),
        _c(
            "no_provider_in_region",
            "No hay ningún servicio de este tipo disponible",
            "No provider of this service is available",
        ),
        _c(
            "no_provider_for_profile",
            "Ningún servicio atiende a este perfil",
            "No provider serves this profile",
        ),
        _c(
            "capacity_full",
            "Todos los servicios disponibles están llenos",
            "All eligible providers are full",
        ),
        _c(
            "after_hours_unavailable",
            "Servicio cerrado a la hora de la identificación",
            "Service closed at the time of identification",
        ),
        _c(
            "no_service_for_need",
            "Ningún servicio responde a una necesidad registrada",
            "No service meets a recorded need",
        ),
    ),
)

REFERRAL_PRIORITY = CodeList(
    "referral_priority",
    (
        _c("mandatory", "Obligatoria", "Mandatory"),
        _c("recommended", "Recomendada", "Recommended"),
    ),
)

REFERRAL_STATUS = CodeList(
    "referral_status",
    (
        _c("pending_consent", "Espera consentimiento", "Pending consent"),
        _c("unassigned", "Sin servicio asignado", "Unassigned"),
        _c("ready", "Lista para enviar", "Ready to send"),
        _c("sent", "Enviada", "Sent"),
        _c("accepted", "Aceptada", "Accepted"),
        _c("declined", "Rechazada", "Declined"),
        _c("completed", "Atendida", "Completed"),
        _c("cancelled", "Anulada", "Cancelled"),
    ),
)

CONSENT_GIVEN_BY = CodeList(
    "consent_given_by",
    (
        _c("person", "La propia persona", "The person"),
        _c("legal_representative", "Representante legal", "Legal representative"),
        _c("upe", "UPE (MIMP)", "UPE (MIMP)"),
    ),
)

CONSENT_METHOD = CodeList(
    "consent_method",
    (
        _c("verbal", "Verbal", "Verbal"),
        _c("written", "Por escrito", "Written"),
    ),
)

DECLINE_REASON = CodeList(
    "decline_reason",
    (
        _c("no_capacity", "Sin vacantes", "No capacity"),
        _c("not_eligible", "No corresponde al perfil del servicio", "Not eligible"),
        _c("unreachable", "No se pudo contactar", "Unreachable"),
        _c("other", "Otro motivo", "Other"),
    ),
)

DISCHARGE_REASON = CodeList(
    "discharge_reason",
    (
        _c("family_reintegration", "Reintegración familiar", "Family reintegration"),
        _c("independent_living", "Vida independiente", "Independent living"),
        _c("transferred", "Transferencia a otro servicio", "Transferred"),
        _c("left_voluntarily", "Salida voluntaria", "Left voluntarily"),
        _c("other", "Otro motivo", "Other"),
    ),
)

CANCEL_REASON = CodeList(
    "cancel_reason",
    (
        _c("duplicate", "Derivación duplicada", "Duplicate referral"),
        _c("case_closed", "Caso cerrado", "Case closed"),
        _c("consent_withdrawn", "Consentimiento retirado", "Consent withdrawn"),
        _c("person_unreachable", "No se ubica a la persona", "Person cannot be reached"),
        _c("no_longer_needed", "Ya no se necesita", "No longer needed"),
        _c("other", "Otro motivo", "Other"),
    ),
)

CASE_STATUS = CodeList(
    "case_status",
    (
        _c("open", "Abierto", "Open"),
        _c("closed", "Cerrado", "Closed"),
    ),
)

# --- Registry -----------------------------------------------------------------------------

LISTS: Mapping[str, CodeList] = MappingProxyType(
    {
        lst.name: lst
        for lst in (
            SEX,
            GENDER_IDENTITY,
            DOCUMENT_TYPE,
            LANGUAGE,
            MIGRATION_STATUS,
            NATIONALITY,
            NATIONALITY_GROUP,
            GENDER_IDENTITY_COLLAPSED,
            AGE_GROUP,
            UNODC_CATEGORY,
            MP_BAND,
            CTDC_BAND,
            ACT,
            MEANS,
            PURPOSE,
            EXPLOITATION_FORM,
            SECTOR,
            INDICATOR,
            IDENTIFICATION_CONTEXT,
            TRAFFICKER_RELATION,
            RECRUITMENT_METHOD,
            REGION,
            NEED,
            ALERT,
            AGGRAVATING,
            DETERMINATION_STATUS,
            SERVICE_TYPE,
            ORG_KIND,
            GAP,
            REFERRAL_PRIORITY,
            REFERRAL_STATUS,
            CONSENT_GIVEN_BY,
            CONSENT_METHOD,
            DECLINE_REASON,
            DISCHARGE_REASON,
            CASE_STATUS,
            CANCEL_REASON,
        )
    }
)


def get(list_name: str) -> CodeList:
    """The list called `list_name`; `KeyError` for an unknown list name."""
    return LISTS[list_name]


def region_coordinates(code: str) -> tuple[float, float] | None:
    """(lat, lon) of a region's capital, for nearest-provider distances; None if not a region."""
    if code not in REGION:
        return None
    extra = REGION[code].extra
    lat, lon = extra.get("lat"), extra.get("lon")
    if not isinstance(lat, str) or not isinstance(lon, str):
        return None
    return float(lat), float(lon)


# Sets the rules need, derived from the lists above (never retyped).
SEXUAL_PURPOSES: frozenset[str] = PURPOSE.where("sexual")
LABOUR_PURPOSES: frozenset[str] = PURPOSE.where("labour")
STRONG_INDICATORS: frozenset[str] = INDICATOR.where("strong")
INDIGENOUS_LANGUAGES: frozenset[str] = LANGUAGE.where("indigenous")
RESIDENTIAL_SERVICES: frozenset[str] = SERVICE_TYPE.where("residential")
LGBTQI_GENDER_IDENTITIES: frozenset[str] = GENDER_IDENTITY.where("lgbtqi")
TRANSGENDER_IDENTITIES: frozenset[str] = GENDER_IDENTITY.where("transgender")
