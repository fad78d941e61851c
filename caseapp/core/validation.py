"""Validation helpers shared by every feature's pages: service field errors onto forms."""

from __future__ import annotations

from flask_wtf import FlaskForm

from caseapp.core.errors import ValidationFailed


def apply_errors(form: FlaskForm, exc: ValidationFailed) -> None:
    """Attach a service's field errors to the matching form fields (others: form-level)."""
    for name, messages in exc.fields.items():
        field = getattr(form, name.replace(".", "_"), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), *messages]
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)
