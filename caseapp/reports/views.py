"""Report pages: the same services as the API, rendered as tables and SVG charts.

Downloads (`/reports/download/<report>`, `/reports/exports/<layout>`) take the API's
parameters and return the API's documents as files, so a signed-in browser session can
get them too (the API itself is bearer-only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.core import codes
from caseapp.core.errors import ValidationFailed
from caseapp.core.i18n import locale
from caseapp.core.security import Permission, has_permission, requires
from caseapp.reports import charts, exports, forms, layouts, services

bp = Blueprint("reports", __name__, url_prefix="/reports")

Builder = Callable[[Any, services.ReportParams], dict[str, Any]]
REPORTS: dict[str, tuple[services.ParamSpec, Builder, str]] = {
    "victims": (services.VICTIMS, services.victims_report, "ruta-victimas"),
    "overlap": (services.OVERLAP, services.overlap_report, "ruta-coincidencias"),
    "referrals": (services.REFERRALS, services.referrals_report, "ruta-derivaciones"),
    "gaps": (services.GAPS, services.gaps_report, "ruta-brechas"),
    "occupancy": (services.OCCUPANCY, services.occupancy_report, "ruta-ocupacion"),
}


@bp.app_template_global("sees_linkage_quality")
def sees_linkage_quality() -> bool:
    """The report navigation links the linkage quality page only for those who may see it
    (a global: the navigation macro is imported without the page's context)."""
    return bool(current_user.is_authenticated) and has_permission(
        current_user.role, Permission.REPORTS_ALL_ORGS
    )


def _dimension_choices(dims: Mapping[str, layouts.Dim]) -> list[tuple[str, str]]:
    return [("", "—"), *((name, str(dim.label)) for name, dim in dims.items())]


def _status_choices() -> list[tuple[str, str]]:
    return codes.get("determination_status").choices(locale())


def _labeler(dims: Mapping[str, layouts.Dim]) -> Callable[[str, Any], str]:
    current = locale()
    return lambda name, code: dims[name].code_label(code, current)


def _downloads(report: str, args: Mapping[str, str]) -> dict[str, str]:
    query: dict[str, Any] = dict(args)
    return {
        fmt: url_for("reports.download", report=report, format=fmt, **query)
        for fmt in ("csv", "xlsx", "json")
    }


def _run(form: Any, report: str) -> tuple[dict[str, Any] | None, int, dict[str, str]]:
    """Validate the form, call the service; (document, HTTP status, API arguments)."""
    if not form.validate():
        return None, 422, {}
    args = form.api_args()
    spec, build, _name = REPORTS[report]
    try:
        params = services.parse_params(args, spec)
    except ValidationFailed as exc:  # the service is stricter than the form: show why
        form.form_errors.extend(f"{name}: {'; '.join(msgs)}" for name, msgs in exc.fields.items())
        return None, 422, {}
    doc = build(current_user, params)
    return doc, 200, args


def _formdata() -> Any:
    """The query string, or None on a first visit so the form shows its defaults."""
    return request.args if request.args else None


def _status_form(form: Any) -> Any:
    """A shared link without `status=` means the default statuses, as in the API."""
    form.status.choices = _status_choices()
    if "status" not in request.args:
        form.status.data = list(services.DEFAULT_STATUSES)
    return form


@bp.get("/")
@requires(Permission.REPORTS_VIEW)
def index() -> Any:
    form = _status_form(forms.VictimsForm(_formdata()))
    if not request.args:
        form.by1.data = "region"
    choices = _dimension_choices(layouts.VICTIM_DIMS)
    for name in form.dimension_fields:
        getattr(form, name).choices = choices
    doc, status, args = _run(form, "victims")
    chart = None
    if doc is not None:
        title = _(
            "%(unit)s por %(dims)s",
            unit=layouts.UNIT_LABELS[doc["unit"]],
            dims=", ".join(str(layouts.VICTIM_DIMS[d].label).lower() for d in doc["dimensions"])
            or _("total"),
        )
        chart = charts.table_chart("victims-chart", title, layouts.VICTIM_DIMS, doc, locale())
    return render_template(
        "reports/index.html",
        form=form,
        doc=doc,
        chart=chart,
        dims=layouts.VICTIM_DIMS,
        label=_labeler(layouts.VICTIM_DIMS),
        unit_labels=layouts.UNIT_LABELS,
        unit_descriptions=layouts.UNIT_DESCRIPTIONS,
        downloads=_downloads("victims", args) if doc else {},
        chart_limit=charts.MAX_BARS,
    ), status


@bp.get("/overlap")
@requires(Permission.REPORTS_VIEW)
def overlap() -> Any:
    form = _status_form(forms.OverlapForm(_formdata()))
    doc, status, args = _run(form, "overlap")
    chart = None
    if doc is not None and doc["cells"]:
        kinds = codes.get("org_kind")
        sources = [(s, kinds.label(s, locale())) for s in doc["sources"]]
        cells = [
            charts.Combination(
                tuple(c["combination"]), c["persons"], c["suppressed"], charts.is_complementary(c)
            )
            for c in doc["cells"]
        ]
        cells.sort(key=lambda c: (c.suppressed, -(c.value or 0)))
        chart = charts.upset_chart(
            "overlap-chart",
            _("Personas según las organizaciones que las identificaron"),
            _(
                "Cada fila es una combinación de tipos de organización (puntos llenos) y la barra, "
                "las personas identificadas exactamente por esa combinación."
            ),
            sources,
            cells,
            doc["threshold"],
        )
    estimate = None
    if doc is not None:
        from caseapp.reports import estimate_views

        estimate = estimate_views.section(current_user, args, request.args, doc)
        status = 422 if estimate.errors else status
    return render_template(
        "reports/overlap.html",
        form=form,
        doc=doc,
        estimate=estimate,
        chart=chart,
        label=_labeler(layouts.VICTIM_DIMS),
        downloads=_downloads("overlap", args) if doc else {},
    ), status


def _breakdown_page(
    report: str,
    dims: Mapping[str, layouts.Dim],
    default: tuple[str, ...],
    chart_title: str,
    label_dims: Mapping[str, layouts.Dim],
) -> Any:
    """A report of counts by up to three dimensions: form, chart, table, downloads."""
    form = forms.BreakdownForm(_formdata())
    if not request.args:
        for name, value in zip(form.dimension_fields, default, strict=False):
            getattr(form, name).data = value
    choices = _dimension_choices(dims)
    for name in form.dimension_fields:
        getattr(form, name).choices = choices
    doc, status, args = _run(form, report)
    chart = None
    if doc is not None:
        chart = charts.table_chart(f"{report}-chart", chart_title, dims, doc, locale())
    return render_template(
        f"reports/{report}.html",
        form=form,
        doc=doc,
        chart=chart,
        label=_labeler(label_dims),
        dims=dims,
        downloads=_downloads(report, args) if doc else {},
    ), status


@bp.get("/referrals")
@requires(Permission.REPORTS_VIEW)
def referrals() -> Any:
    return _breakdown_page(
        "referrals",
        layouts.REFERRAL_DIMS,
        services.REFERRALS.default_by,
        _("Derivaciones"),
        {**layouts.REFERRAL_DIMS, **layouts.OTHER_DIMS},
    )


@bp.get("/gaps")
@requires(Permission.REPORTS_VIEW)
def gaps() -> Any:
    return _breakdown_page(
        "gaps",
        layouts.GAP_DIMS,
        services.GAPS.default_by,
        _("Necesidades no cubiertas"),
        layouts.GAP_DIMS,
    )


@bp.get("/occupancy")
@requires(Permission.REPORTS_VIEW)
def occupancy() -> Any:
    form = forms.PeriodForm(_formdata())
    doc, status, args = _run(form, "occupancy")
    chart = None
    if doc is not None and doc["series"]:
        points = [
            charts.Bar(p["month"], p["count"], p["suppressed"], None, charts.is_complementary(p))
            for p in doc["series"]
        ]
        chart = charts.line_chart(
            "occupancy-chart",
            _("Personas acogidas al cierre de cada mes"),
            _(
                "Personas en servicios residenciales al final de cada mes; las cifras "
                "suprimidas se muestran rayadas."
            ),
            points,
            doc["threshold"],
        )
    return render_template(
        "reports/occupancy.html",
        form=form,
        doc=doc,
        chart=chart,
        label=_labeler(layouts.VICTIM_DIMS),
        downloads=_downloads("occupancy", args) if doc else {},
    ), status


@bp.get("/linkage")
@requires(Permission.REPORTS_ALL_ORGS)
def linkage_page() -> Any:
    """Calidad del enlace: the model behind the unduplicated counts (statisticians)."""
    from caseapp.reports import linkage

    doc = linkage.linkage_report(current_user)
    chart = None
    if doc["histogram"] and any(b["pairs"] for b in doc["histogram"]):
        chart = charts.histogram_chart(
            "linkage-histogram",
            _("Pares comparados según su peso de coincidencia"),
            _(
                "Columnas: pares de registros comparados en el último reenlace, por peso de "
                "coincidencia en bits, en escala logarítmica. La línea marca el umbral; la "
                "banda sombreada, los pares cercanos al umbral."
            ),
            [charts.Bin(b["from"], b["to"], b["pairs"]) for b in doc["histogram"]],
            doc["threshold"]["in_use"],
            doc["threshold"]["near"],
        )
    return render_template(
        "reports/linkage.html",
        doc=doc,
        chart=chart,
        field_labels=linkage.FIELD_LABELS,
        level_labels=linkage.LEVEL_LABELS,
        fmt_probability=_probability,
        fmt_weight=_weight,
    )


def _probability(value: float) -> str:
    """m and u in the locale's decimals, with enough places to tell a small one (or one
    close to 1) from 0 (or 1): 0,000018 and 0,99997, never an exponent."""
    if value < 1e-6:
        return "< " + format_decimal(0.000001, format="0.000000")
    gap = min(value, 1 - value)
    places = 4 if gap <= 0 else min(max(4, 2 - math.floor(math.log10(gap))), 6)
    return format_decimal(value, format="0." + "#" * places)


def _weight(value: float, *, sign: bool = True) -> str:
    text = format_decimal(abs(value), format="0.0")
    if not sign:
        return text if value >= 0 else "−" + text
    return ("+" if value >= 0 else "−") + text


@bp.get("/exports")
@requires(Permission.REPORTS_VIEW)
def exports_page() -> Any:
    form = _status_form(forms.ExportsForm(_formdata()))
    valid = form.validate()
    args: dict[str, Any] = form.api_args() if valid else {}
    available = [name for name in services.LAYOUTS if services.may_export(current_user, name)]
    links = (
        {
            name: {
                fmt: url_for("reports.export_layout", layout=name, format=fmt, **args)
                for fmt in ("xlsx", "csv", "json")
            }
            for name in available
        }
        if valid
        else {}
    )
    return render_template(
        "reports/exports.html", form=form, links=links, layouts=services.LAYOUTS
    ), 200 if valid else 422


@bp.get("/download/<report>")
@requires(Permission.REPORTS_VIEW)
def download(report: str) -> Any:
    if report not in REPORTS:
        abort(404)
    spec, build, basename = REPORTS[report]
    params = services.parse_params(request.args, spec)
    doc = build(current_user, params)
    return exports.file_response(doc, report, params.fmt, basename)


@bp.get("/exports/<layout>")
@requires(Permission.REPORTS_VIEW)
def export_layout(layout: str) -> Any:
    params = services.parse_params(request.args, services.LAYOUT)
    doc = services.export_layout(current_user, layout, params)
    return exports.file_response(doc, "layout", params.fmt, f"ruta-{layout}")
