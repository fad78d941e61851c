"""Report query parameters and responses of /api/v1 (api.md §8, reports.md), declared once
(ADR 0018). The pages validate their filter forms with the same models."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import Field, model_validator

from caseapp.core import codes
from caseapp.core.contract import Problems, Query, QueryCode, QueryDate, QueryList, Shape
from caseapp.reports.queries import GAP_DIMENSIONS, REFERRAL_DIMENSIONS, VICTIM_DIMENSIONS

FORMATS = ("json", "csv", "xlsx")
UNITS = ("persons", "screenings")
DEFAULT_STATUSES = ("indicated", "possible")
MAX_DIMENSIONS = 4
_YEARS = (2000, date.today().year)


def _unknown_dimension(dimensions: tuple[str, ...]) -> Any:
    def message(bad: list[str]) -> str:
        return f"unknown dimension {', '.join(map(repr, bad))}; choose from {', '.join(dimensions)}"

    return message


def _unknown_status(bad: list[str]) -> str:
    return (
        f"unknown status {', '.join(map(repr, bad))}; "
        "choose from indicated, possible, not_indicated"
    )


def _dimensions(dimensions: tuple[str, ...], most: int, default: str = "") -> Any:
    text = f"Comma list of up to {most} of " + ", ".join(dimensions)
    return QueryList(
        lambda: dimensions,
        unknown=_unknown_dimension(dimensions),
        max_items=most,
        unique=True,
        description=text + (f" (default {default})" if default else ""),
    )


class ReportQuery(Query):
    """The period and format every report takes."""

    #: the dimensions when ``by`` is not given
    default_by: ClassVar[tuple[str, ...]] = ()

    date_from: Annotated[
        date | None,
        QueryDate(
            years=_YEARS, description="First Lima date of the period (YYYY-MM-DD), inclusive"
        ),
    ] = Field(default=None, alias="from")
    date_to: Annotated[
        date | None,
        QueryDate(years=_YEARS, description="Last Lima date of the period, inclusive"),
    ] = Field(default=None, alias="to")
    fmt: Annotated[
        str,
        QueryCode(
            "",
            values=FORMATS,
            default="json",
            message="must be json, csv or xlsx",
            description="json (default), csv (UTF-8 with BOM) or xlsx",
        ),
    ] = Field(default="json", alias="format")

    @model_validator(mode="after")
    def _period(self) -> ReportQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise Problems({"to": "must not be before from"})
        return self

    @property
    def dimensions(self) -> tuple[str, ...]:
        by = getattr(self, "by", None)
        return self.default_by if by is None else by

    @property
    def statuses(self) -> tuple[str, ...]:
        status = getattr(self, "status", None)
        return tuple(dict.fromkeys(status)) if status else DEFAULT_STATUSES

    @property
    def unit(self) -> str:
        return str(getattr(self, "unit_", "persons"))

    def filters(self) -> dict[str, Any]:
        """The parameters as echoed in a response and in the audit event."""
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "status": list(self.statuses),
        }


_STATUS = QueryList(
    lambda: codes.get("determination_status").codes,
    unknown=_unknown_status,
    description="Comma list of indicated, possible, not_indicated (default indicated,possible)",
)


class StatusReportQuery(ReportQuery):
    """Reports of screenings, filtered by determination status (overlap, layouts)."""

    status: Annotated[tuple[str, ...] | None, _STATUS] = None


class VictimsQuery(StatusReportQuery):
    by: Annotated[tuple[str, ...] | None, _dimensions(VICTIM_DIMENSIONS, MAX_DIMENSIONS)] = None
    unit_: Annotated[
        str,
        QueryCode(
            "",
            values=UNITS,
            default="persons",
            message="must be persons or screenings",
            description="persons (default, unduplicated) or screenings",
        ),
    ] = Field(default="persons", alias="unit")


class ReferralsQuery(ReportQuery):
    default_by = ("service_type", "status")
    by: Annotated[
        tuple[str, ...] | None, _dimensions(REFERRAL_DIMENSIONS, 3, "service_type,status")
    ] = None


class GapsQuery(ReportQuery):
    default_by = ("gap", "region")
    by: Annotated[tuple[str, ...] | None, _dimensions(GAP_DIMENSIONS, 3, "gap,region")] = None


OverlapQuery = StatusReportQuery
OccupancyQuery = ReportQuery
LayoutQuery = StatusReportQuery


# -- responses -----------------------------------------------------------------------------


class PublishedCount(Shape):
    count: int | None
    suppressed: bool


class VictimsReport(Shape):
    unit: Annotated[str, Field(json_schema_extra={"enum": list(UNITS)})]
    threshold: int
    dimensions: list[str]
    rows: list[dict[str, Any]] = Field(
        description="one key per dimension, plus count (null when suppressed) and suppressed"
    )
    total: PublishedCount
    generated_at: str = Field(json_schema_extra={"format": "date-time"})
    rule_version: str
    perturbation: dict[str, Any] = Field(
        default={},
        description="cell-key perturbation of published counts (ADR 0016): method, "
        "max_noise, additive (false: rows need not sum to the total), note",
    )
    multi_valued: list[str] = []
    filters: dict[str, Any] = {}
    labels: dict[str, Any] = {}
