"""Cell-key perturbation: differencing-proof published counts (docs/decisions/0016).

Pure: no Flask, no database. The SQL twin of `record_key` is in `recordkeys.py`.

The attack this closes: the same table for two overlapping periods (1 January to 1 July,
1 January to 2 July) differs by the persons identified on 2 July; with exact counts the
difference of a small region's cells (14, 15) is that number exactly, even though neither
cell is small. Threshold suppression cannot see it: each table on its own is safe.

The method (as in the ABS TableBuilder and the ONS/Eurostat cell-key method):

- every counted unit (a person for ``unit=persons``, else the screening, referral, gap
  record or admission) has a **record key**: a keyed pseudo-random number in
  ``[0, MODULUS)`` computed from its id with a secret derived from ``CASEAPP_INDEX_KEY``;
- a cell's **cell key** is the sum of its units' record keys modulo ``MODULUS``: the same
  set of units always has the same cell key, and adding or removing one unit changes it
  to an unpredictable value;
- the published value is ``count + noise`` where `noise` is read from a fixed, public
  perturbation table (`noise`) at the cell key: bounded by `max_noise`, zero mean for
  every count, zero for zero, never making a count of at least k smaller than k (so
  nothing between 1 and k-1 is ever published, and a zero is never invented).

Repeating a query returns the same numbers (the noise does not average out, as
reports.md §4 requires); the difference of two overlapping periods is the true
difference plus the difference of two unrelated noises, so a 1 is indistinguishable
from a -3 .. 5. Small counts (1..k-1) are still suppressed before any of this, on the
true counts, with the complementary rules of `disclosure.py`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

#: Record and cell keys live in [0, MODULUS): a prime below 2**31 so that the SQL twin
#: multiplies two keys in a 64-bit integer on SQLite and PostgreSQL alike.
MODULUS = (1 << 31) - 1

#: Default largest absolute noise (configurable as ``CASEAPP_PERTURBATION_MAX_NOISE``).
DEFAULT_MAX_NOISE = 2

#: Relative weights of a noise of 0, ±1, ±2, ±3 ... before truncation (see `noise`).
_WEIGHTS = (4, 2, 1, 1, 1, 1, 1, 1)

_MIXER_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Mixer:
    """Secret multipliers and offsets of the record-key function (one pair per round)."""

    multipliers: tuple[int, ...]
    offsets: tuple[int, ...]


def mixer(secret: bytes, domain: str) -> Mixer:
    """The record-key constants for one kind of unit (`domain`: ``person``, ``screening``,
    ``referral``, ``gap``, ``admission``), derived from `secret` with HMAC-SHA256.

    A separate domain per kind keeps a person's key unrelated to their screening's.
    """
    if not secret:
        raise ValueError("the cell-key secret must not be empty")
    multipliers: list[int] = []
    offsets: list[int] = []
    for i in range(_MIXER_ROUNDS):
        digest = hmac.new(secret, f"ruta/cell-key/v1/{domain}/{i}".encode(), hashlib.sha256)
        raw = digest.digest()
        multipliers.append(1 + int.from_bytes(raw[:8], "big") % (MODULUS - 1))
        offsets.append(int.from_bytes(raw[8:16], "big") % MODULUS)
    return Mixer(tuple(multipliers), tuple(offsets))


def record_key(unit_id: int, mix: Mixer) -> int:
    """A unit's record key in [0, MODULUS): a secret affine step, then secret quadratic
    steps ``x -> a*x*x + b`` modulo the prime (a polynomial of degree 4 with secret
    coefficients). The SQL twin in `recordkeys.py` computes the same, bit for bit; a
    quadratic step repeats its input twice in SQL text (SQL has no variables), so this
    costs far less than xor-shift mixing, which repeats it four times per round."""
    a, b = mix.multipliers, mix.offsets
    x = (unit_id % MODULUS * a[0] + b[0]) % MODULUS
    for i in range(1, len(a)):
        x = (x * x % MODULUS * a[i] + b[i]) % MODULUS
    return x


def cell_key(record_keys_sum: int) -> int:
    """A cell's key from the (unreduced) sum of its units' record keys."""
    return record_keys_sum % MODULUS


def noise_table(count: int, k: int, max_noise: int) -> tuple[tuple[int, int], ...]:
    """The perturbation table row for a true `count`: ``(noise, weight)`` pairs.

    Symmetric around zero (so zero mean), at most `max_noise` either way, and never
    below ``k - count`` (a count of at least k stays at least k). Zero and the small
    counts 1..k-1 (suppressed anyway) get no noise.
    """
    if count < k or count == 0 or max_noise <= 0:
        return ((0, 1),)
    width = min(max_noise, count - k, len(_WEIGHTS) - 1)
    return tuple((d, _WEIGHTS[abs(d)]) for d in range(-width, width + 1))


def noise(count: int, key: int, k: int, max_noise: int) -> int:
    """The noise added to a published `count` whose cell key is `key` (ptable lookup)."""
    row = noise_table(count, k, max_noise)
    total = sum(w for _, w in row)
    point = (key % MODULUS) * total // MODULUS  # the cell key, uniform on [0, 1), scaled
    for d, w in row:
        if point < w:
            return d
        point -= w
    raise AssertionError("unreachable: point < total")  # pragma: no cover


def perturb(count: int, key: int, k: int, max_noise: int) -> int:
    """The published value of a count that passed suppression (0 or at least k)."""
    return count + noise(count, key, k, max_noise)


NOTE_ES = (
    "Las cifras llevan una pequeña perturbación controlada (de -{n} a +{n}) para que restar "
    "dos consultas no revele a nadie; la misma consulta da siempre las mismas cifras. Los "
    "totales se perturban por separado: pueden no coincidir con la suma de las filas."
)
NOTE_EN = (
    "Figures carry a small controlled perturbation (from -{n} to +{n}) so that subtracting "
    "two queries reveals no one; the same query always gives the same figures. Totals are "
    "perturbed separately: they may differ from the sum of the rows."
)


def description(max_noise: int) -> dict[str, object]:
    """What a published document says about its perturbation (`perturbation` key)."""
    return {
        "method": "cell_key",
        "max_noise": max_noise,
        "additive": max_noise == 0,
        "note": {"es": NOTE_ES.format(n=max_noise), "en": NOTE_EN.format(n=max_noise)},
    }
