"""The SQL twin of `cellkey.record_key`: record keys computed inside the grouped
statements, so a cell's key is one more ``SUM`` beside its ``COUNT`` (no row per person
leaves the database, docs/decisions/0016).

Integer arithmetic only (``*``, ``+``, ``%``, ``|``, ``&``, ``>>`` on 64-bit integers),
which SQLite and PostgreSQL evaluate identically; every intermediate stays below 2**62.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app

from caseapp.reports import cellkey


def secret() -> bytes:
    """The cell-key secret: derived from ``CASEAPP_INDEX_KEY`` (never stored or shown)."""
    return bytes(current_app.config["INDEX_KEY_BYTES"])


def max_noise() -> int:
    return int(current_app.config.get("PERTURBATION_MAX_NOISE", cellkey.DEFAULT_MAX_NOISE))


def record_key_sql(unit_id: Any, domain: str) -> sa.ColumnElement[int]:
    """``cellkey.record_key(unit_id)`` as a SQL expression of the column `unit_id`."""
    mix = cellkey.mixer(secret(), domain)
    m = sa.literal(cellkey.MODULUS, sa.BigInteger)
    x: Any = sa.cast(unit_id, sa.BigInteger) % m
    for i, (a, b) in enumerate(zip(mix.multipliers, mix.offsets, strict=True)):
        x = (x * sa.literal(a, sa.BigInteger) + sa.literal(b, sa.BigInteger)) % m
        if i < len(mix.shifts):
            shifted = x.op(">>")(sa.literal(mix.shifts[i], sa.Integer))
            x = x.op("|")(shifted) - x.op("&")(shifted)
    return sa.type_coerce(x, sa.BigInteger)
