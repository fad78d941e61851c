"""GET filter forms of the report pages (read-only: no CSRF token in the URL).

The forms only check what a person can get wrong in the browser and say it in their
language; `api_args()` turns them into the API's parameters, which the same service
validates again (`services.parse_params`), so page, download and API agree.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, ValidationError, widgets
from wtforms.validators import DataRequired, Optional


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("Desde"), validators=[Optional()], name="from")
    date_to = DateField(_l("Hasta"), validators=[Optional()], name="to")

    def validate_date_to(self, field: Any) -> None:
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("La fecha final no puede ser anterior a la inicial."))

    def api_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        if self.date_from.data:
            args["from"] = self.date_from.data.isoformat()
        if self.date_to.data:
            args["to"] = self.date_to.data.isoformat()
        return args


class StatusMixin:
    status = CheckboxesField(
        _l("Resultados de la evaluación que se cuentan"),
        default=["indicated", "possible"],
        validators=[DataRequired(message=_l("Elija al menos un resultado."))],
    )

    def status_args(self) -> dict[str, str]:
        return {"status": ",".join(self.status.data or [])}


class DimensionsMixin:
    """Up to four ordered dimension selects (`by1`…`by4`); the view sets the choices."""

    dimension_fields: tuple[str, ...] = ()

    def chosen(self) -> list[str]:
        return [getattr(self, f).data for f in self.dimension_fields if getattr(self, f).data]

    def check_dimensions(self) -> bool:
        seen: set[str] = set()
        ok = True
        for name in self.dimension_fields:
            field = getattr(self, name)
            if field.data and field.data in seen:
                field.errors = [*field.errors, _l("Esta dimensión ya está elegida.")]
                ok = False
            seen.add(field.data)
        return ok


_ORDINALS = (
    _l("Dimensión principal"),
    _l("Segunda dimensión"),
    _l("Tercera dimensión"),
    _l("Cuarta dimensión"),
)


def _by(n: int) -> SelectField:
    return SelectField(_ORDINALS[n - 1], validators=[Optional()], default="")


class VictimsForm(DimensionsMixin, StatusMixin, PeriodForm):
    unit = SelectField(
        _l("Unidad"),
        choices=[
            ("persons", _l("Personas (sin duplicar)")),
            ("screenings", _l("Evaluaciones (como cada registro)")),
        ],
        default="persons",
    )
    by1 = _by(1)
    by2 = _by(2)
    by3 = _by(3)
    by4 = _by(4)
    dimension_fields = ("by1", "by2", "by3", "by4")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        return self.check_dimensions() and ok

    def api_args(self) -> dict[str, str]:
        return {
            "unit": self.unit.data,
            "by": ",".join(self.chosen()),
            **super().api_args(),
            **self.status_args(),
        }


class OverlapForm(StatusMixin, PeriodForm):
    def api_args(self) -> dict[str, str]:
        return {**super().api_args(), **self.status_args()}


class ExportsForm(OverlapForm):
    pass


class BreakdownForm(DimensionsMixin, PeriodForm):
    """Referrals and gaps: up to three dimensions."""

    by1 = _by(1)
    by2 = _by(2)
    by3 = _by(3)
    dimension_fields = ("by1", "by2", "by3")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.chosen():
            self.by1.errors = [*self.by1.errors, _l("Elija al menos una dimensión.")]
            ok = False
        return self.check_dimensions() and ok

    def api_args(self) -> dict[str, str]:
        return {"by": ",".join(self.chosen()), **super().api_args()}
