"""The estimate section of the overlap page (`/reports/overlap`): the same service as
`GET /api/v1/reports/estimate`, with the page's period and status, plus `by` and `lists`
from the query string."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from caseapp.core import codes
from caseapp.core.errors import ValidationFailed
from caseapp.reports import estimate_chart, estimates
from caseapp.reports.charts import Bar, is_complementary


@dataclass
class EstimateSection:
    doc: dict[str, Any] | None = None
    chart: Markup | None = None
    errors: list[str] = field(default_factory=list)
    by: str = ""
    lists: list[str] = field(default_factory=list)

    @property
    def dimensions(self) -> list[tuple[str, str]]:
        from caseapp.reports.layouts import VICTIM_DIMS

        return [(d, str(VICTIM_DIMS[d].label)) for d in estimates.DIMENSIONS]

    @property
    def kinds(self) -> list[tuple[str, str]]:
        from caseapp.core.i18n import locale

        return codes.get("org_kind").choices(locale())


def section(
    actor: Any, period: Mapping[str, str], args: MultiDict[str, str], overlap: dict[str, Any]
) -> EstimateSection:
    """Validate `by`/`lists`, run the estimate, draw its chart. Errors name the field."""
    from caseapp.core.i18n import locale

    out = EstimateSection(by=args.get("by", ""), lists=args.getlist("lists"))
    query = dict(period)
    if out.by:
        query["by"] = out.by
    if out.lists:
        query["lists"] = ",".join(out.lists)
    try:
        params = estimates.parse_params(query)
    except ValidationFailed as exc:
        out.errors = [f"{name}: {'; '.join(msgs)}" for name, msgs in exc.fields.items()]
        return out
    out.doc = estimates.estimate_report(actor, params)
    overall = out.doc["overall"]
    if overall["status"] == "estimated":
        kinds = codes.get("org_kind")
        bars = [
            Bar(
                " + ".join(kinds.label(m, locale()) for m in c["combination"]),
                c["persons"],
                c["suppressed"],
                None,
                is_complementary(c),
            )
            for c in overlap.get("cells", [])
        ]
        observed = overall["observed"]
        out.chart = estimate_chart.estimate_chart(
            "estimate-chart",
            _("Personas vistas por cada combinación y personas que nadie vio (estimación)"),
            _(
                "Barras llenas: personas identificadas por exactamente esa combinación de "
                "organizaciones (cifras publicadas de la tabla de coincidencias). Barra "
                "punteada: personas que ninguna institución vio, según el modelo, con su "
                "intervalo del 95 %."
            ),
            bars,
            overall["unseen"],
            max(overall["ci_low"] - observed, 0),
            max(overall["ci_high"] - observed, 0),
            out.doc["threshold"],
        )
    return out
