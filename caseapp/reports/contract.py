"""Report query parameters and responses of /api/v1 (api.md §8, reports.md), declared once
(ADR 0018). The pages validate their filter forms with the same models."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import Field, model_validator

from caseapp.core import codes
from caseapp.core.contract import Problems, Query, QueryCode, QueryDate, QueryList, Shape
from caseapp.reports.queries import GAP_DIMENSIONS, REFERRAL_DIMENSIONS, VICTIM_DIMENSIONS
from caseapp.stats import estimation

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


_FROM = QueryDate(years=_YEARS, description="First Lima date of the period, inclusive")
_TO = QueryDate(years=_YEARS, description="Last Lima date of the period, inclusive")


class ReportParams(Protocol):
    """What the report services read of validated parameters (any report query)."""

    date_from: date | None
    date_to: date | None

    @property
    def dimensions(self) -> tuple[str, ...]: ...
    @property
    def statuses(self) -> tuple[str, ...]: ...
    @property
    def unit(self) -> str: ...
    @property
    def fmt(self) -> str: ...
    def filters(self) -> dict[str, Any]: ...


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

#: the strata of a multiple systems estimate (docs/estimation.md)
ESTIMATE_DIMENSIONS = ("sex", "age_group", "exploitation_form")


def _unknown_kind(bad: list[str]) -> str:
    kinds = codes.get("org_kind").codes
    return f"unknown organization kind {', '.join(map(repr, bad))}; choose from {', '.join(kinds)}"


class EstimateQuery(Query):
    """``GET /api/v1/reports/estimate``: the period, the statuses, the lists and a stratum."""

    date_from: Annotated[date | None, _FROM] = Field(default=None, alias="from")
    date_to: Annotated[date | None, _TO] = Field(default=None, alias="to")
    status: Annotated[tuple[str, ...] | None, _STATUS] = None
    lists: Annotated[
        tuple[str, ...] | None,
        QueryList(
            lambda: codes.get("org_kind").codes,
            unknown=_unknown_kind,
            min_items=estimation.MIN_LISTS,
            max_items=estimation.MAX_LISTS,
            unique=True,
            noun="organization kind",
            description=f"Comma list of {estimation.MIN_LISTS} to {estimation.MAX_LISTS} "
            "organization kinds used as lists (default: every kind that identified someone; "
            "beyond 6, the smallest are merged into one list)",
        ),
    ] = None
    by: Annotated[
        str | None,
        QueryCode(
            "",
            values=ESTIMATE_DIMENSIONS,
            message="unknown dimension {value!r}; choose one of " + ", ".join(ESTIMATE_DIMENSIONS),
            description="Optional stratum: " + ", ".join(ESTIMATE_DIMENSIONS),
        ),
    ] = None

    @model_validator(mode="after")
    def _period(self) -> EstimateQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise Problems({"to": "must not be before from"})
        return self

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.status)) if self.status else DEFAULT_STATUSES

    def filters(self) -> dict[str, Any]:
        return ReportQuery.filters(self)  # type: ignore[arg-type]  # the same reading

    @property
    def dimensions(self) -> tuple[str, ...]:
        return (self.by,) if self.by else ()

    @property
    def unit(self) -> str:
        return "persons"

    @property
    def fmt(self) -> str:
        return "json"


# -- responses -----------------------------------------------------------------------------


class PublishedCount(Shape):
    count: int | None
    suppressed: bool
    suppression: Literal["primary", "complementary"] | None = Field(
        None,
        description="only on a suppressed count: primary (from 1 to k-1) or complementary "
        "(hidden so that another suppressed count cannot be deduced)",
    )


class VictimsReport(Shape):
    unit: Annotated[str, Field(json_schema_extra={"enum": list(UNITS)})]
    threshold: int
    dimensions: list[str]
    rows: list[dict[str, Any]] = Field(
        description="one key per dimension, plus count (null when suppressed), suppressed "
        "and, when suppressed, suppression (primary or complementary)"
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


class Refusal(Shape):
    code: Annotated[str, Field(json_schema_extra={"enum": sorted(estimation.REASONS)})]
    message: str
    message_es: str


class Estimate(Shape):
    status: Annotated[str, Field(json_schema_extra={"enum": ["estimated", "refused"]})]
    observed: int | None = Field(default=None, description="rounded to 10")
    estimate: int | None = Field(default=None, description="observed + unseen, rounded to 10")
    unseen: int | None = Field(default=None, description="rounded to 10")
    ci_low: int | None = Field(default=None, description="95 % interval, rounded down to 10")
    ci_high: int | None = Field(default=None, description="95 % interval, rounded up to 10")
    model: dict[str, Any] = {}
    bic_model: dict[str, Any] = {}
    refused: Refusal | None = None


class EstimateReport(Shape):
    report: Annotated[str, Field(json_schema_extra={"enum": ["estimate"]})]
    method: str
    criterion: Annotated[str, Field(json_schema_extra={"enum": ["aic", "bic"]})]
    lists: list[str]
    merged: list[str] = []
    dimension: str | None = None
    overall: Estimate
    strata: list[Estimate]
    rounding: int = 10
    interval: dict[str, Any] = {}
    assumptions: list[dict[str, Any]] = []
    threshold: int
