"""Forms of the import page: choose a profile and a file; confirm; roll back."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, ValidationError


class UploadForm(FlaskForm):
    profile = SelectField(_l("Registro de origen (perfil)"), validate_choice=False)
    file = FileField(_l("Archivo del registro"))

    def validate_profile(self, field: Any) -> None:
        if not field.data:
            raise ValidationError(_l("Elija el perfil del registro que va a importar."))
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Ese perfil no existe; elija uno de la lista."))

    def validate_file(self, field: Any) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError(_l("Elija el archivo que va a importar."))


class ConfirmForm(FlaskForm):
    skip_bad_rows = BooleanField(_l("Importar sin las filas con problemas"))


class RollbackForm(FlaskForm):
    """Only its CSRF token: the button itself is the confirmation."""
