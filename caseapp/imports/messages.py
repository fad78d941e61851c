"""Problem messages of an import in the page's language.

The rules and the screening contract write their problems in English (the CLI prints
them, the batch keeps them in its report); the page shows the usual ones in the reader's
language and any other as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext as _

_Translate = Callable[[re.Match[str]], str]

_PATTERNS: list[tuple[re.Pattern[str], _Translate]] = [
    (
        re.compile(r"column missing from the file$"),
        lambda m: _("falta esta columna en el archivo"),
    ),
    (
        re.compile(r"source record id is missing$"),
        lambda m: _("falta el identificador del registro"),
    ),
    (
        re.compile(r"source record id repeats line (\d+) \(lines \d+ and \d+\)$"),
        lambda m: _(
            "el identificador se repite: ya está en la fila %(line)d", line=int(m.group(1))
        ),
    ),
    (
        re.compile(r"date in the future \(today is ([\d-]+)\)$"),
        lambda m: _("fecha futura (hoy es %(today)s)", today=m.group(1)),
    ),
    (
        re.compile(r"not a date \((.+)\)$"),
        lambda m: _("no es una fecha (%(formats)s)", formats=m.group(1).replace(" or ", ", ")),
    ),
    (re.compile(r"not a yes/no value \(sí/no\)$"), lambda m: _("no es un valor sí/no")),
    (re.compile(r"not a whole number$"), lambda m: _("no es un número entero")),
    (
        re.compile(r"unknown value \(map ([^:]+): (.*)\)$"),
        lambda m: _(
            "valor desconocido (lista %(map)s: %(known)s)", map=m.group(1), known=m.group(2)
        ),
    ),
    (
        re.compile(r"unknown code (.+) \(see codes\.md: (\w+)\)$"),
        lambda m: _(
            "código desconocido %(value)s (lista %(list)s)", value=m.group(1), list=m.group(2)
        ),
    ),
    (re.compile(r"required$"), lambda m: _("dato obligatorio")),
    (
        re.compile(r"must be a whole number from (\d+) to (\d+)$"),
        lambda m: _(
            "debe ser un número entero de %(lo)d a %(hi)d",
            lo=int(m.group(1)),
            hi=int(m.group(2)),
        ),
    ),
    (
        re.compile(r"cannot be in the future$"),
        lambda m: _("la fecha no puede ser posterior a hoy"),
    ),
]


def localized(message: str) -> str:
    """The message in the UI language when it is one of the usual ones."""
    for pattern, translate in _PATTERNS:
        match = pattern.match(message)
        if match:
            return translate(match)
    return message
