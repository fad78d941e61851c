from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A button-only POST (accept, complete): the CSRF token is the whole form."""


class SendForm(FlaskForm):
    risk_notes = TextAreaField(
        _l("Riesgos que el servicio debe conocer (opcional)"),
        validators=[Optional(), Length(max=2000)],
    )
    consent_override_justification = TextAreaField(
        _l("Justificación para enviar sin consentimiento (solo supervisión, emergencias)"),
        validators=[Optional(), Length(max=2000)],
    )


class AssignForm(FlaskForm):
    provider = SelectField(_l("Servicio"), validators=[DataRequired()])


class CancelForm(FlaskForm):
    reason = SelectField(_l("Motivo de la anulación"), validators=[DataRequired()])
    note = TextAreaField(_l("Nota (opcional)"), validators=[Optional(), Length(max=2000)])


class DeclineForm(FlaskForm):
    reason = SelectField(_l("Motivo"), validators=[DataRequired()])
    note = TextAreaField(_l("Nota (opcional)"), validators=[Optional(), Length(max=2000)])


class AdmitForm(FlaskForm):
    admitted_at = DateTimeLocalField(
        _l("Fecha y hora de ingreso"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    bed = StringField(_l("Cama o habitación"), validators=[Optional(), Length(max=20)])
    planned_stay_days = IntegerField(
        _l("Estadía prevista (días)"), validators=[Optional(), NumberRange(1, 3650)]
    )


class DischargeForm(FlaskForm):
    discharged_at = DateTimeLocalField(
        _l("Fecha y hora de egreso"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    reason = SelectField(_l("Motivo del egreso"), validators=[DataRequired()])
    note = TextAreaField(_l("Nota (opcional)"), validators=[Optional(), Length(max=2000)])


class ConsentForm(FlaskForm):
    given = RadioField(
        _l("¿La persona da su consentimiento?"),
        choices=[("yes", _l("Sí, consiente")), ("no", _l("No consiente / lo retira"))],
        validators=[DataRequired(message=_l("Indique si hay consentimiento."))],
    )
    scope_all = RadioField(
        _l("Alcance"),
        choices=[
            ("all", _l("Todas las derivaciones propuestas")),
            ("some", _l("Solo los servicios marcados")),
        ],
        default="all",
    )
    scope = MultiCheckboxField(_l("Servicios"), validators=[Optional()])
    given_by = SelectField(_l("Quién lo da"), validators=[DataRequired()])
    method = SelectField(_l("Forma"), validators=[DataRequired()])
