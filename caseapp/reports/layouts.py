"""Dimensions, labels and the published tables: the generic suppressed table and the
three export layouts of reports.md §5 (`unodc_glotip`, `inei`, `ctdc`).

Everything that decides what a table *looks like* lives here; `queries.py` counts and
`disclosure.py` decides what may be published. Labels come from the code lists
(`caseapp.core.codes`), with a few report-only categories (referral outcome, gap
profile, GLOTIP groups) defined below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from caseapp.core import codes
from caseapp.reports import queries, recordkeys
from caseapp.reports.queries import UNKNOWN, Counts, FactFilter
from caseapp.stats import cellkey, disclosure

log = logging.getLogger(__name__)

Label = Any  # a str or a lazy gettext string


@dataclass(frozen=True, slots=True)
class Dim:
    """A report dimension: its label, and where its codes' labels come from."""

    name: str
    label: Label
    code_list: str | None = None
    custom: Mapping[str, tuple[Label, str]] = field(default_factory=dict)
    """code -> (Spanish label for the UI, English label) for report-only categories."""

    def code_label(self, code: Any, locale: str = "es") -> str:
        text = str(code)
        if text in self.custom:
            es, en = self.custom[text]
            return en if locale.startswith("en") else str(es)
        if self.code_list:
            try:
                return codes.get(self.code_list).label(text, locale)
            except KeyError:
                pass
        if text == UNKNOWN:
            return "Unknown" if locale.startswith("en") else "No se sabe"
        return text

    def order(self, code: Any) -> tuple[int, float, str]:
        """Display order: the code list's order, unknown last; years and months by value."""
        text = str(code)
        if text == UNKNOWN:
            return (2, 0, text)
        if self.code_list:
            lst = codes.get(self.code_list)
            if text in lst:
                return (0, lst.codes.index(text), text)
            if text == LIMA_DEPARTMENT:  # right after its parts, 1501 and 15
                return (0, max(lst.codes.index("15"), lst.codes.index("1501")) + 0.5, text)
        if text in self.custom:
            return (0, list(self.custom).index(text), text)
        return (1, 0, text)


def _dims(*items: Dim) -> dict[str, Dim]:
    return {d.name: d for d in items}


VICTIM_DIMS = _dims(
    Dim("sex", _l("Sexo"), "sex"),
    Dim("gender_identity", _l("Identidad de género"), "gender_identity_collapsed"),
    Dim("age_group", _l("Grupo de edad"), "age_group"),
    Dim("unodc_category", _l("Categoría UNODC"), "unodc_category"),
    Dim("mp_band", _l("Edad (tramos del Ministerio Público)"), "mp_band"),
    Dim("ctdc_band", _l("Edad (tramos CTDC)"), "ctdc_band"),
    Dim("nationality", _l("Nacionalidad"), "nationality"),
    Dim("nationality_group", _l("Nacionalidad (grupo)"), "nationality_group"),
    Dim("region", _l("Región de identificación"), "region"),
    Dim("exploitation_region", _l("Región de explotación"), "region"),
    Dim("exploitation_form", _l("Forma de explotación"), "exploitation_form"),
    Dim("purpose", _l("Finalidad de explotación"), "purpose"),
    Dim("sector", _l("Sector de explotación"), "sector"),
    Dim("identification_context", _l("Contexto de identificación"), "identification_context"),
    Dim("org_kind", _l("Tipo de organización que identificó"), "org_kind"),
    Dim("status", _l("Resultado de la evaluación"), "determination_status"),
    Dim("year", _l("Año")),
    Dim("month", _l("Mes")),
)
assert tuple(VICTIM_DIMS) == queries.VICTIM_DIMENSIONS

OUTCOMES = {
    "accepted": (_l("Aceptada o atendida"), "Accepted or completed"),
    "declined": (_l("Rechazada"), "Declined"),
    "cancelled": (_l("Anulada"), "Cancelled"),
    "pending": (_l("Pendiente"), "Pending"),
}
REFERRAL_DIMS = _dims(
    Dim("service_type", _l("Tipo de servicio"), "service_type"),
    Dim("status", _l("Estado de la derivación"), "referral_status"),
    Dim("outcome", _l("Resultado de la derivación"), custom=OUTCOMES),
    Dim("region", _l("Región de identificación"), "region"),
    Dim("priority", _l("Prioridad"), "referral_priority"),
)
assert tuple(REFERRAL_DIMS) == queries.REFERRAL_DIMENSIONS

GAP_PROFILES = {
    "lgbtqi": (_l("Personas LGBTIQ+"), "LGBTIQ+ persons"),
    "adult_man": (_l("Hombres adultos"), "Adult men"),
    "adult_woman": (_l("Mujeres adultas"), "Adult women"),
    "boy": (_l("Niños y adolescentes varones"), "Boys"),
    "girl": (_l("Niñas y adolescentes mujeres"), "Girls"),
}
GAP_DIMS = _dims(
    Dim("gap", _l("Brecha"), "gap"),
    Dim("region", _l("Región"), "region"),
    Dim("profile", _l("Perfil"), custom=GAP_PROFILES),
    Dim("service_type", _l("Servicio que faltó"), "service_type"),
)
assert tuple(GAP_DIMS) == queries.GAP_DIMENSIONS

OTHER_DIMS = _dims(
    Dim("combination", _l("Combinación de tipos de organización")),
    Dim("decline_reason", _l("Motivo del rechazo"), "decline_reason"),
    Dim("provider", _l("Servicio residencial")),
)

UNIT_LABELS = {"persons": _l("Personas"), "screenings": _l("Evaluaciones")}
UNIT_DESCRIPTIONS = {
    "persons": _l(
        "Personas sin duplicar entre organizaciones: cada persona se cuenta una vez, en el "
        "periodo de su primera identificación, con los datos de su evaluación más reciente."
    ),
    "screenings": _l(
        "Cada evaluación cuenta, como en los registros de cada institución: una persona "
        "evaluada por dos organizaciones se cuenta dos veces."
    ),
}


def labels_doc(
    dims: Mapping[str, Dim], names: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, dict[str, str]]]:
    """`{dimension: {code: {"es": …, "en": …}}}` for the codes present in `rows`."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    rows = list(rows)
    for name in names:
        dim = dims[name]
        values = sorted({str(r[name]) for r in rows}, key=dim.order)
        out[name] = {
            v: {"es": dim.code_label(v, "es"), "en": dim.code_label(v, "en")} for v in values
        }
    return out


# -- the generic suppressed table ------------------------------------------------------------


def table_doc(
    dims: Mapping[str, Dim],
    names: Sequence[str],
    counts: Counts,
    k: int,
    *,
    multi_valued: bool = False,
    groups: Sequence[disclosure.AdditiveGroup] = (),
    extra_cells: Mapping[tuple[Any, ...], int] | None = None,
    extra_keys: Mapping[tuple[Any, ...], int] | None = None,
) -> dict[str, Any]:
    """Suppress `counts`, perturb what is published with its cell key (the configured
    ``PERTURBATION_MAX_NOISE``, ADR 0016) and return the reports.md §4 table.

    Only combinations that occur are listed; an absent combination is a published zero
    (disclosure.py treats missing keys as zeros, so this lists nothing it would hide).
    Rows are ordered by the code lists, never by count: the order must not hint at a
    hidden value.
    """
    cells = dict(counts.cells)
    keys = dict(counts.keys)
    if extra_cells:
        cells.update(extra_cells)
        keys.update(extra_keys or {})
    perturbation = disclosure.Perturbation(recordkeys.max_noise(), keys, counts.total_key)
    table = disclosure.suppress_table(
        list(names),
        cells,
        counts.total,
        k,
        groups=groups,
        check_total=not (multi_valued or extra_cells),
        perturbation=perturbation,
    )
    if table.exposed_by_marginals:
        # Determined only through a marginal table, which suppresses it itself; logged so
        # the pattern can be reviewed (disclosure.py "Guarantee").
        log.warning(
            "report cells exposed by marginals: %d (dimensions %s)",
            len(table.exposed_by_marginals),
            ",".join(names),
        )
    rows = table.rows()
    rows.sort(key=lambda r: tuple(dims[n].order(r[n]) for n in names))
    return {
        "threshold": k,
        "dimensions": list(names),
        "rows": rows,
        "total": table.total.as_dict(),
        "multi_valued": [n for n in names if n in queries.MULTI_VALUED] if multi_valued else [],
        "rule_version": table.rule_version,
        "perturbation": perturbation_doc(),
    }


def perturbation_doc() -> dict[str, object]:
    """The `perturbation` description every published document carries (ADR 0016)."""
    return cellkey.description(recordkeys.max_noise())


def align_totals(tables: Sequence[dict[str, Any]]) -> None:
    """Tables of one workbook share their total: hidden in one, hidden in all."""
    if any(t["total"]["suppressed"] for t in tables):
        primary = any(
            t["total"].get("suppression") == disclosure.PRIMARY
            for t in tables
            if t["total"]["suppressed"]
        )
        why = disclosure.PRIMARY if primary else disclosure.COMPLEMENTARY
        for t in tables:
            t["total"] = {"count": None, **disclosure.marks(True, why)}


# -- layout: UNODC GLOTIP ---------------------------------------------------------------------

GLOTIP_SEX = {
    "women": (_l("Mujeres"), "Women"),
    "men": (_l("Hombres"), "Men"),
    "girls": (_l("Niñas"), "Girls"),
    "boys": (_l("Niños"), "Boys"),
}
GLOTIP_FORMS = {
    "sexual exploitation": (_l("Explotación sexual"), "Sexual exploitation"),
    "forced labour": (_l("Trabajo forzoso"), "Forced labour"),
    "mixed sexual exploitation and forced labour": (
        _l("Explotación sexual y trabajo forzoso"),
        "Mixed sexual exploitation and forced labour",
    ),
    "begging": (_l("Mendicidad"), "Begging"),
    "organ removal": (_l("Extracción de órganos"), "Organ removal"),
    "baby selling / illegal adoption": (
        _l("Venta de niños / adopción ilegal"),
        "Baby selling / illegal adoption",
    ),
    "forced criminal activity": (_l("Actividades delictivas forzadas"), "Forced criminal activity"),
    "forced marriage": (_l("Matrimonio forzado"), "Forced marriage"),
    "other": (_l("Otras formas"), "Other forms"),
}
GLOTIP_CITIZENSHIP = {
    "nationals": (_l("Nacionales"), "Nationals"),
    "foreigners": (_l("Extranjeros"), "Foreigners"),
}
GLOTIP_DIMS = _dims(
    Dim("sex_age", _l("Sexo y edad"), custom=GLOTIP_SEX),
    Dim("form", _l("Forma de explotación (GLOTIP)"), custom=GLOTIP_FORMS),
    Dim("citizenship", _l("Ciudadanía"), custom=GLOTIP_CITIZENSHIP),
)


def _glotip_sex(unodc: str) -> str:
    lst = codes.get("unodc_category")
    value = lst[unodc].extra.get("glotip") if unodc in lst else None
    return str(value) if value else UNKNOWN


def _glotip_form(form: str) -> str:
    lst = codes.get("exploitation_form")
    value = lst[form].extra.get("glotip") if form in lst else None
    return str(value) if value else UNKNOWN


def _glotip_citizenship(group: str) -> str:
    return {"peruvian": "nationals", "foreign": "foreigners"}.get(group, UNKNOWN)


def unodc_glotip(flt: FactFilter, k: int) -> dict[str, Any]:
    """Detected victims (persons) by women/men/girls/boys × GLOTIP form × citizenship."""
    raw = queries.victim_counts(
        "persons", ("unodc_category", "exploitation_form", "nationality_group"), flt
    )
    recoded = raw.merged(
        lambda key: (_glotip_sex(key[0]), _glotip_form(key[1]), _glotip_citizenship(key[2]))
    )
    table = table_doc(GLOTIP_DIMS, list(GLOTIP_DIMS), recoded, k)
    table.update(name="victims", title="Detected victims of trafficking in persons")
    return {
        "layout": "unodc_glotip",
        "unit": "persons",
        "tables": [table],
        "rule_version": table["rule_version"],
    }


# -- layout: INEI -----------------------------------------------------------------------------

LIMA_DEPARTMENT = "lima_department"
"""Subtotal row: Lima Metropolitana (1501) + Región Lima (15) = the department of Lima."""

INEI_TABLES: tuple[tuple[str, str, Label], ...] = (
    ("by_department", "region", _l("Por departamento (Lima Metropolitana por separado)")),
    ("by_sex", "sex", _l("Por sexo")),
    ("by_age_group", "age_group", _l("Por grupo de edad")),
    ("by_purpose", "purpose", _l("Por finalidad de explotación")),
)


INEI_DIMS = {
    **VICTIM_DIMS,
    "region": Dim(
        "region",
        _l("Departamento"),
        "region",
        custom={
            LIMA_DEPARTMENT: (
                _l("Lima (departamento: Lima Metropolitana + Región Lima)"),
                "Lima (department: 1501 + 15)",
            )
        },
    ),
}


def _department_table(counts: Counts, k: int) -> dict[str, Any]:
    """Departments with a Lima subtotal row: the subtotal is a declared additive group."""
    cells = dict(counts.cells)
    lima = (("1501",), ("15",))
    for key in lima:  # a group member must be a cell; an absent one is a zero
        cells.setdefault(key, 0)
    groups = [
        disclosure.AdditiveGroup(members=tuple(cells), sum_key=None),
        disclosure.AdditiveGroup(members=lima, sum_key=(LIMA_DEPARTMENT,)),
    ]
    subtotal = {(LIMA_DEPARTMENT,): sum(cells[key] for key in lima)}
    subtotal_key = {(LIMA_DEPARTMENT,): sum(counts.keys.get(key, 0) for key in lima)}
    table = table_doc(
        INEI_DIMS,
        ["region"],
        Counts(cells, counts.total, counts.keys, counts.total_key),
        k,
        groups=groups,
        extra_cells=subtotal,
        extra_keys=subtotal_key,
    )
    for row in table["rows"]:
        row["subtotal"] = row["region"] == LIMA_DEPARTMENT
    return table


def inei(flt: FactFilter, k: int) -> dict[str, Any]:
    """Persons by department (1501 and 15 apart, plus their Lima subtotal), sex, age group,
    and purpose (multi-valued), as separate tables of one workbook."""
    base = queries.victim_counts("persons", ("region", "sex", "age_group"), flt)
    purposes = queries.victim_counts("persons", ("purpose",), flt)
    tables = []
    for name, dim, title in INEI_TABLES:
        if dim == "purpose":
            table = table_doc(INEI_DIMS, [dim], purposes, k, multi_valued=True)
        else:
            axis = ("region", "sex", "age_group").index(dim)
            counts = base.merged(lambda key, axis=axis: (key[axis],))  # type: ignore[misc]
            if dim == "region":
                table = _department_table(counts, k)
            else:
                table = table_doc(INEI_DIMS, [dim], counts, k)
        table.update(name=name, title=str(title))
        tables.append(table)
    align_totals(tables)  # the purpose table's total is the same distinct persons
    return {
        "layout": "inei",
        "unit": "persons",
        "tables": tables,
        "rule_version": tables[0]["rule_version"],
    }


# -- layout: CTDC -----------------------------------------------------------------------------

CTDC_COLUMNS = (
    "yearOfRegistration",
    "Datasource",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "typeOfExploitConcatenated",
    "isSexualExploit",
    "isForcedLabour",
    "isSlaveryAndPractices",
    "isForcedMarriage",
    "isForcedMilitary",
    "isOrganRemoval",
    "isOtherExploit",
    "typeOfSexConcatenated",
    "typeOfLabourConcatenated",
)
CTDC_QUASI_IDENTIFIERS = (
    "yearOfRegistration",
    "gender",
    "ageBroad",
    "majorityStatus",
    "citizenship",
    "typeOfExploitConcatenated",
    "typeOfSexConcatenated",
    "typeOfLabourConcatenated",
)
CTDC_FLAGS = {
    "isSexualExploit": "Sexual exploitation",
    "isForcedLabour": "Forced labour",
    "isSlaveryAndPractices": "Slavery and similar practices",
    "isForcedMarriage": "Forced marriage",
    "isForcedMilitary": "Forced military",
    "isOrganRemoval": "Organ removal",
    "isOtherExploit": "Other",
}
CTDC_MISSING = ""
CTDC_OTHER_OR_MULTIPLE = "Other or multiple"
CTDC_FOREIGN = "Other"
_CTDC_GENDER = {
    "woman": "Female",
    "man": "Male",
    "trans_or_non_conforming": "Transgender/NonConforming",
}
_MINOR_BANDS = {"0--8", "9--17"}


def _split_camel(text: str) -> str:
    words: list[str] = []
    for ch in text:
        if ch.isupper() and words:
            words.append(" " + ch.lower())
        else:
            words.append(ch)
    return "".join(words)


def _ctdc_row(person: Mapping[str, Any]) -> dict[str, Any]:
    nat = codes.get("nationality")
    band = codes.get("ctdc_band")
    sector = codes.get("sector")
    purpose = codes.get("purpose")
    flags = sorted(
        {
            str(purpose[p].extra.get("ctdc"))
            for p in person["purposes"]
            if p in purpose and purpose[p].extra.get("ctdc")
        },
        key=list(CTDC_FLAGS).index,
    )
    sector_ctdc = (
        str(sector[person["sector"]].extra.get("ctdc", "")) if person["sector"] in sector else ""
    )
    type_of_sex = type_of_labour = CTDC_MISSING
    if sector_ctdc.startswith("typeOfSex"):
        type_of_sex = _split_camel(sector_ctdc.removeprefix("typeOfSex"))
    elif sector_ctdc.startswith("typeOfLabour") and sector_ctdc != "typeOfLabourNotSpecified":
        type_of_labour = _split_camel(sector_ctdc.removeprefix("typeOfLabour"))
    age = person["ctdc_band"]
    majority = {"under_14": "Minor", "age_14_17": "Minor", "adult": "Adult"}
    citizenship = (
        str(nat[person["nationality"]].extra.get("alpha2") or "")
        if person["nationality"] in nat
        else ""
    )
    return {
        "yearOfRegistration": int(person["year"]),
        "gender": _CTDC_GENDER.get(person["gender_identity"], CTDC_MISSING),
        "ageBroad": str(band[age].extra.get("ctdc", "")) if age in band else CTDC_MISSING,
        "majorityStatus": majority.get(person["age_group"], CTDC_MISSING),
        "citizenship": citizenship or CTDC_MISSING,
        "typeOfExploitConcatenated": "; ".join(CTDC_FLAGS[f] for f in flags) or CTDC_MISSING,
        "typeOfSexConcatenated": type_of_sex,
        "typeOfLabourConcatenated": type_of_labour,
    }


def _coarse_exploit(value: object) -> Hashable:
    text = str(value)
    if text in ("", "Sexual exploitation", "Forced labour"):
        return text
    return CTDC_OTHER_OR_MULTIPLE


def _coarse_age(value: object) -> Hashable:
    text = str(value)
    if text in _MINOR_BANDS or text == "0--17":
        return "0--17"
    return text if text in ("", "18+") else "18+"


#: Applied in this order, each to the whole column, while too many rows would be dropped:
#: the least useful detail goes first (docs/decisions/0007-reports.md).
CTDC_COARSENINGS: tuple[tuple[str, Callable[[object], Hashable]], ...] = (
    ("typeOfLabourConcatenated", lambda v: CTDC_MISSING),
    ("typeOfSexConcatenated", lambda v: CTDC_MISSING),
    ("citizenship", lambda v: v if v in ("PE", CTDC_MISSING) else CTDC_FOREIGN),
    ("ageBroad", _coarse_age),
    ("typeOfExploitConcatenated", _coarse_exploit),
    ("gender", lambda v: v if v in ("Female", "Male") else CTDC_MISSING),
)


def _with_flags(row: dict[str, Any]) -> dict[str, Any]:
    concatenated = str(row["typeOfExploitConcatenated"])
    known = set(concatenated.split("; ")) if concatenated else set()
    out: dict[str, Any] = {"Datasource": "Case Management", **row}
    for flag, label in CTDC_FLAGS.items():
        if not concatenated or concatenated == CTDC_OTHER_OR_MULTIPLE:
            out[flag] = CTDC_MISSING
        else:
            out[flag] = 1 if label in known else 0
    return {c: out[c] for c in CTDC_COLUMNS}


def ctdc(flt: FactFilter, k: int) -> dict[str, Any]:
    """One anonymized row per person, CTDC column names, k-anonymous over the released
    quasi-identifiers (coarsening first, then dropping what is still unique)."""
    people = queries.ctdc_persons(flt)
    rows = [_ctdc_row(p) for p in people]
    result = disclosure.k_anonymize(
        rows, CTDC_QUASI_IDENTIFIERS, k, CTDC_COARSENINGS, max_dropped=len(rows) // 100
    )
    released = [_with_flags(r) for r in result.rows]
    released.sort(key=lambda r: tuple(str(r[c]) for c in CTDC_COLUMNS))
    return {
        "layout": "ctdc",
        "unit": "persons",
        "threshold": k,
        "columns": list(CTDC_COLUMNS),
        "quasi_identifiers": list(CTDC_QUASI_IDENTIFIERS),
        "rows": released,
        "coarsenings_applied": [c for c, _ in CTDC_COARSENINGS[: result.coarsenings_applied]],
        "dropped": result.dropped,
        "missing_value": CTDC_MISSING,
        "rule_version": disclosure.RULE_VERSION,
    }
