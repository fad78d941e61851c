"""Directory validation messages: English for the loader/CLI, localized on pages.

`validate_row` reports `Problem`s: a plain English string (what the CSV loader
prints) that also carries a key and parameters, so a page can show the same
problem in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from caseapp.core.errors import ValidationFailed


class Problem(str):
    key: str
    params: dict[str, str]

    def __new__(cls, key: str, english: str, **params: str) -> Problem:
        obj = super().__new__(cls, english % params)
        obj.key = key
        obj.params = params
        return obj


PAGE_TEXT: Mapping[str, object] = {
    "required": _l("Obligatorio."),
    "whole_number": _l("Debe ser un número entero ≥ 0."),
    "unknown_region": _l("Región desconocida: %(value)s"),
    "max_below_min": _l("Debe ser mayor o igual que la edad mínima."),
    "sexes": _l("Debe ser F, M o cualquiera."),
    "boolean": _l("Debe ser verdadero o falso."),
    "capacity_required": _l("Obligatoria para servicios residenciales."),
    "hours": _l("Horario no reconocido (%(value)s). Ejemplos: 24/7 · mon-fri 08:00-17:00"),
    "languages": _l("Códigos de idioma desconocidos: %(value)s"),
    "nationalities": _l("No es un código ISO 3166 alfa-3: %(value)s"),
    "serves": _l("Perfiles desconocidos: %(value)s"),
}


def localized(message: str) -> str:
    if isinstance(message, Problem) and message.key in PAGE_TEXT:
        return str(PAGE_TEXT[message.key]) % message.params
    return message


def localize(exc: ValidationFailed) -> ValidationFailed:
    """The same field errors, in the page's language."""
    return ValidationFailed({f: [localized(m) for m in ms] for f, ms in exc.fields.items()})
