from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from caseapp.core.security import ROLES

#: The roles of api.md §2 as people read them (the code stays in the data and the API).
ROLE_LABELS = {
    "screener": _l("Evaluador(a)"),
    "caseworker": _l("Gestor(a) de casos"),
    "supervisor": _l("Supervisor(a)"),
    "statistician": _l("Estadístico(a)"),
    "admin": _l("Administrador(a)"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Correo electrónico"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Contraseña"), validators=[DataRequired(), Length(max=1000)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Contraseña actual"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("Nueva contraseña"), validators=[DataRequired(), Length(min=12, max=1000)]
    )
    confirm = PasswordField(
        _l("Repita la nueva contraseña"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("No coincide."))],
    )


class UserCreateForm(FlaskForm):
    email = EmailField(
        _l("Correo electrónico"),
        validators=[
            DataRequired(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Correo no válido.")),
            Length(max=254),
        ],
    )
    full_name = StringField(_l("Nombre completo"), validators=[Length(max=200)])
    role = SelectField(
        _l("Rol"), choices=[(r, ROLE_LABELS[r]) for r in ROLES], validators=[DataRequired()]
    )
    org = SelectField(_l("Organización"), validators=[DataRequired()])
    # Optional: accounts that read cases get theirs from the approving supervisor (ADR 0013)
    password = PasswordField(
        _l("Contraseña inicial"), validators=[Optional(), Length(min=12, max=1000)]
    )


class TwoFactorForm(FlaskForm):
    code = StringField(
        _l("Código de verificación"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"},
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token (revoke, approve, reactivate)."""


class DeactivateForm(FlaskForm):
    reason = StringField(
        _l("Motivo"), validators=[DataRequired(), Length(max=500)], render_kw={"maxlength": 500}
    )
