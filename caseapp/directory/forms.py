from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class DirectoryFilterForm(FlaskForm):
    """GET search form: read-only, so no CSRF token is needed (nor wanted in URLs)."""

    class Meta:
        csrf = False

    service_type = SelectField(_l("Tipo de servicio"), validators=[Optional()])
    region = SelectField(_l("Región"), validators=[Optional()])
    q = StringField(_l("Nombre o ciudad"), validators=[Optional(), Length(max=100)])


class ServiceEditForm(FlaskForm):
    name = StringField(_l("Nombre"), validators=[DataRequired(), Length(max=200)])
    region = SelectField(_l("Región"), validators=[DataRequired()])
    city = StringField(_l("Ciudad"), validators=[Optional(), Length(max=100)])
    min_age = IntegerField(_l("Edad mínima"), validators=[Optional(), NumberRange(0, 120)])
    max_age = IntegerField(_l("Edad máxima"), validators=[Optional(), NumberRange(0, 120)])
    sexes = SelectField(
        _l("Sexo atendido"),
        choices=[("any", _l("Cualquiera")), ("F", _l("Mujeres")), ("M", _l("Hombres"))],
    )
    accepts_transgender = BooleanField(_l("Acepta personas trans"))
    accepts_foreign = BooleanField(_l("Acepta personas extranjeras"))
    capacity = IntegerField(
        _l("Capacidad (plazas)"), validators=[Optional(), NumberRange(0, 10000)]
    )
    hours = StringField(_l("Horario"), validators=[DataRequired(), Length(max=100)])
    languages = StringField(
        _l("Idiomas (códigos separados por ;)"), validators=[Optional(), Length(max=100)]
    )
    nationalities = StringField(
        _l("Nacionalidades (ISO-3 separados por ;, vacío = todas)"),
        validators=[Optional(), Length(max=200)],
    )
    serves = StringField(
        _l("Dedicado a (perfiles separados por ;, vacío = todos)"),
        validators=[Optional(), Length(max=200)],
    )
    notes = TextAreaField(_l("Notas"), validators=[Optional(), Length(max=2000)])
    is_active = BooleanField(_l("Activo"))
