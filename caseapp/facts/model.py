"""A Fellegi–Sunter model over keyed encodings (pure, numpy; ADR 0020).

Each compared pair gets one comparison level per field (``LEVELS``; ``-1`` when either
side is missing, which is no evidence either way). A level's weight is
``log2(m / u)``: ``m`` the probability of that level among pairs of the same person,
``u`` among pairs of different persons. The match weight of a pair is the sum of its
fields' weights; exact agreement on a name is weighted by how rare that name is (the
keyed frequency table: ``u`` of the value is its share of the records), so "María
Quispe" agreeing says less than "Yesenia Chuquimia".

``u`` is counted on random pairs (nearly all of different persons); ``m`` is estimated by
expectation–maximisation in training sessions (``SESSIONS``: the blocked pairs chosen by
one field's exact agreement train the other fields), and the share of matches among the
blocked pairs by EM over all of them with that ``m``. Small data sets (fewer than
``MIN_RECORDS_TO_ESTIMATE``) keep ``DEFAULT`` parameters, which are what a first screening
is linked with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from caseapp.core import cores
from caseapp.facts.table import NO_YEAR, Table

MODEL_VERSION = "fs-2"  # fs-2: the "contained" name level
DEFAULT_THRESHOLD = 10.0  # bits: the floor, and the threshold of the default model
DEFAULT_MATCH_PROBABILITY = 0.5  # posterior match probability an estimated model links at
NEAR_THRESHOLD = 3.0  # bits either side of the threshold: "rests on a near pair"
MIN_RECORDS_TO_ESTIMATE = 1000
RANDOM_PAIRS = 1_000_000
EM_ITERATIONS = 30
_NAME_LEVELS = ("exact", "dice_0.90", "contained", "dice_0.75", "dice_0.60", "different")
LEVELS: dict[str, tuple[str, ...]] = {
    "given": _NAME_LEVELS,
    "family": _NAME_LEVELS,
    "dob": ("exact", "day_month_swap", "one_edit", "year_1", "age_only_year_1", "different"),
    "sex": ("agree", "disagree"),
    "doc": ("exact", "one_edit", "different"),
}
FIELDS = tuple(LEVELS)
_DICE = (0.9, 0.75, 0.6)
_CONTAINED = 0.95  # share of the smaller name's filter bits set in the other's
_CHUNK = 1 << 18  # pairs per piece: ~100 MB of temporaries per thread
_MAX_THREADS = 8

# Hand-set starting values (also the model before any estimate): m per level, u per level.
_DEFAULT_M = {
    "given": (0.85, 0.08, 0.03, 0.03, 0.01, 0.01),
    "family": (0.85, 0.08, 0.03, 0.03, 0.01, 0.01),
    "dob": (0.85, 0.02, 0.06, 0.02, 0.04, 0.01),
    "sex": (0.98, 0.02),
    "doc": (0.95, 0.02, 0.03),
}
_DEFAULT_U = {
    "given": (0.002, 0.001, 0.003, 0.01, 0.05, 0.934),
    "family": (0.001, 0.001, 0.002, 0.008, 0.04, 0.948),
    "dob": (0.00005, 0.00003, 0.0004, 0.002, 0.06, 0.93751),
    "sex": (0.5, 0.5),
    # registers issue numbers in sequence: one edit apart is not rare among strangers
    "doc": (0.000001, 0.001, 0.998999),
}


@dataclass
class Model:
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    match_share: float = 0.001  # λ among blocked pairs
    version: str = MODEL_VERSION
    estimated_at: str | None = None  # ISO UTC; None: default parameters
    records: int = 0
    pairs: int = 0
    #: keyed frequency tables: field -> value code -> records with that value
    frequencies: dict[str, dict[int, int]] = field(default_factory=dict)
    adjust: bool = False  # term-frequency adjustment (an estimated model)

    def weights(self, name: str) -> np.ndarray:
        return np.log2(np.asarray(self.m[name]) / np.asarray(self.u[name]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "estimated_at": self.estimated_at,
            "records": self.records,
            "pairs": self.pairs,
            "match_share": self.match_share,
            "m": self.m,
            "u": self.u,
            "adjust": self.adjust,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], frequencies: dict[str, dict[int, int]]) -> Model:
        """A stored model; one stored with other comparison levels (an older version)
        gives the default parameters until the next relink estimates a new one."""
        stored = data.get("m") or {}
        if any(len(stored.get(k) or ()) != len(v) for k, v in LEVELS.items()):
            fallback = default_model()
            fallback.version = f"{MODEL_VERSION}-default"
            return fallback
        return cls(
            m={k: list(v) for k, v in data["m"].items()},
            u={k: list(v) for k, v in data["u"].items()},
            match_share=float(data.get("match_share", 0.001)),
            version=str(data.get("version", MODEL_VERSION)),
            estimated_at=data.get("estimated_at"),
            records=int(data.get("records", 0)),
            pairs=int(data.get("pairs", 0)),
            frequencies=frequencies,
            adjust=bool(data.get("adjust", False)),
        )


def threshold_bits(
    fitted: Model, probability: float = DEFAULT_MATCH_PROBABILITY, floor: float = DEFAULT_THRESHOLD
) -> float:
    """The match weight at which a pair of this data is a match with ``probability``.

    ``u`` is counted on random pairs, so a weight is a Bayes factor against a random pair,
    whose prior odds of being a match fall as the data grows (matches grow like the
    records, pairs like their square): posterior odds = prior odds × 2^weight. The prior is
    the estimated matches (λ × blocked pairs) over all pairs. A fixed number of bits would
    link more strangers the larger the register; this threshold rises with log2 of its
    size. Never below ``floor``; the default model (small data) links at ``floor``."""
    if not fitted.adjust or fitted.records < 2:
        return floor
    all_pairs = fitted.records * (fitted.records - 1) / 2
    matches = max(fitted.match_share * fitted.pairs, 1.0)
    bits = math.log2(probability / (1 - probability)) + math.log2(all_pairs / matches)
    return max(floor, round(bits, 2))


def default_model() -> Model:
    return Model(
        m={k: list(v) for k, v in _DEFAULT_M.items()},
        u={k: list(v) for k, v in _DEFAULT_U.items()},
    )


# -- comparison ---------------------------------------------------------------------------


def _common_bits(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per row, the bits set in both filters (column by column: NumPy's row sum over eight
    words is three times slower)."""
    both = np.bitwise_count(x & y)
    out = both[:, 0].astype(np.int64)
    for k in range(1, both.shape[1]):
        out += both[:, k]
    return out


def _dice(x: np.ndarray, y: np.ndarray, xc: np.ndarray, yc: np.ndarray) -> np.ndarray:
    """Dice coefficients of the filter rows ``x`` and ``y`` with their set bits; 0 when
    either is empty."""
    common = _common_bits(x, y)
    return np.where((xc > 0) & (yc > 0), 2 * common / np.maximum(xc + yc, 1), 0.0)


def _name_level(
    exact: np.ndarray, dice: np.ndarray, contained: np.ndarray, missing: np.ndarray
) -> np.ndarray:
    level = np.full(len(dice), _NAME_LEVELS.index("different"), dtype=np.int8)
    for cut in reversed(_DICE):
        level[dice >= cut] = _NAME_LEVELS.index(f"dice_{cut:.2f}")
    level[(dice < _DICE[0]) & contained] = _NAME_LEVELS.index("contained")
    level[exact] = 0
    level[missing] = -1
    return level


def _contained(dice: np.ndarray, xc: np.ndarray, yc: np.ndarray) -> np.ndarray:
    """One name's bigrams (nearly) all within the other's: a name part dropped or added
    ("Ramos" and "Ramos Valcanes"). From the Dice coefficient: common bits are
    dice × (|x| + |y|) / 2, over the smaller filter."""
    smaller = np.maximum(np.minimum(xc, yc), 1)
    return (dice * (xc + yc) / (2 * smaller) >= _CONTAINED) & (xc > 0) & (yc > 0)


def compare(t: Table, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Comparison levels (pairs × ``FIELDS``), int8, -1 for missing."""
    return compare_pairs(t, i, j)[0]


def compare_pairs(t: Table, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`compare`, and per pair whether its names were compared swapped (what
    :func:`score` needs: pass it on rather than comparing the names again)."""
    levels = np.empty((len(i), len(FIELDS)), dtype=np.int8)
    swap = np.empty(len(i), dtype=bool)

    def run(lo: int) -> None:
        hi = lo + _CHUNK
        levels[lo:hi], swap[lo:hi] = _compare_chunk(t, i[lo:hi], j[lo:hi])

    _each_chunk(run, len(i))
    return levels, swap


def _each_chunk(run: Callable[[int], None], n: int) -> None:
    """``run(lo)`` for each chunk start of ``n`` pairs; with more than one chunk on threads,
    one per core (NumPy releases the GIL in the indexing and the bitwise work, so a
    million-pair comparison runs on every core; each chunk writes its own rows). A pool
    per call: a forked process (the import's workers) must not inherit one."""
    starts = range(0, n, _CHUNK)
    threads = min(cores.usable(), _MAX_THREADS, len(starts))
    if threads < 2:
        for lo in starts:
            run(lo)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="linkage-compare") as pool:
        for done in [pool.submit(run, lo) for lo in starts]:
            done.result()  # re-raises a chunk's exception


def _compare_chunk(t: Table, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(a)
    out = np.empty((n, len(FIELDS)), dtype=np.int8)
    # names, straight or with given and family names swapped (whichever agrees better)
    gca, gcb = t.given_count[a], t.given_count[b]
    fca, fcb = t.family_count[a], t.family_count[b]
    swap, gg, ff, gf, fg = _name_dice(t, a, b, (gca, gcb, fca, fcb))
    g_missing = (gca == 0) | (gcb == 0)
    f_missing = (fca == 0) | (fcb == 0)
    g_exact = (t.given_value[a] == t.given_value[b]) & ~swap & ~g_missing
    f_exact = (t.family_value[a] == t.family_value[b]) & ~swap & ~f_missing
    g_in = np.where(swap, _contained(gf, gca, fcb), _contained(gg, gca, gcb))
    f_in = np.where(swap, _contained(fg, fca, gcb), _contained(ff, fca, fcb))
    out[:, 0] = _name_level(g_exact, np.where(swap, gf, gg), g_in, g_missing)
    out[:, 1] = _name_level(f_exact, np.where(swap, fg, ff), f_in, f_missing)
    out[:, 2] = _dob_level(t, a, b)
    sa, sb = t.sex[a], t.sex[b]
    out[:, 3] = np.where((sa < 0) | (sb < 0), -1, np.where(sa == sb, 0, 1))
    out[:, 4] = _doc_level(t, a, b)
    return out, swap


def _name_dice(
    t: Table,
    a: np.ndarray,
    b: np.ndarray,
    counts: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whether the pair's names compare better with given and family swapped, and the
    four Dice coefficients (given–given, family–family, given–family, family–given).
    ``counts``: the filters' set bits (given of a, of b, family of a, of b), if known.
    Each side's filters are gathered once."""
    gca, gcb, fca, fcb = counts or (
        t.given_count[a],
        t.given_count[b],
        t.family_count[a],
        t.family_count[b],
    )
    ga, gb, fa, fb = t.given[a], t.given[b], t.family[a], t.family[b]
    gg = _dice(ga, gb, gca, gcb)
    ff = _dice(fa, fb, fca, fcb)
    gf = _dice(ga, fb, gca, fcb)
    fg = _dice(fa, gb, fca, gcb)
    return (gf + fg) > (gg + ff + 0.2), gg, ff, gf, fg


def swapped(t: Table, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per pair: its names were compared with given and family names swapped."""
    out = np.zeros(len(i), dtype=bool)

    def run(lo: int) -> None:
        out[lo : lo + _CHUNK] = _name_dice(t, i[lo : lo + _CHUNK], j[lo : lo + _CHUNK])[0]

    _each_chunk(run, len(i))
    return out


def _dob_level(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ya, yb = t.year[a], t.year[b]
    missing = (ya == NO_YEAR) | (yb == NO_YEAR)
    both = t.dated[a] & t.dated[b]
    near_year = np.abs(ya - yb) <= 1
    level = np.full(len(a), 5, dtype=np.int8)
    level[~both & near_year] = 4
    level[both & near_year] = 3
    # the codes only where both dates are known (column by column, as the documents)
    dated = np.flatnonzero(both)
    da, db = a[dated], b[dated]
    a0, b0 = t.dob[da, 0], t.dob[db, 0]
    a1, b1 = t.dob[da, 1], t.dob[db, 1]
    one_edit = np.zeros(len(dated), dtype=bool)
    for k in range(2, t.dob.shape[1]):
        one_edit |= t.dob[da, k] == t.dob[db, k]
    found = level[dated]
    found[one_edit] = 2
    found[((a1 != 0) & (a1 == b0)) | ((b1 != 0) & (b1 == a0))] = 1
    found[a0 == b0] = 0
    level[dated] = found
    level[missing] = -1
    return level


def _doc_level(t: Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ta, tb = t.doc_type[a], t.doc_type[b]
    comparable = np.flatnonzero((ta >= 0) & (ta == tb))
    a, b = a[comparable], b[comparable]
    exact = t.doc[a, 0] == t.doc[b, 0]
    # one character different or two adjacent ones swapped: a masked or swap code shared
    # (column by column: the rows of all pairs at once would be DOC_CODES times larger;
    # only the columns some number fills: an 8-digit DNI leaves half of them zero)
    one_edit = np.zeros(len(a), dtype=bool)
    for k in t.doc_columns:
        x = t.doc[a, k]
        one_edit |= (x == t.doc[b, k]) & (x != 0)
    found = np.full(len(comparable), 2, dtype=np.int8)
    found[one_edit] = 1
    found[exact] = 0
    level = np.full(len(ta), -1, dtype=np.int8)
    level[comparable] = found
    return level


# -- scoring ------------------------------------------------------------------------------


def score(
    model: Model,
    t: Table,
    i: np.ndarray,
    j: np.ndarray,
    levels: np.ndarray,
    swap: np.ndarray | None = None,
) -> np.ndarray:
    """Match weights (bits) of the pairs (i, j) with their comparison levels (and
    whether their names compared swapped, from :func:`compare_pairs`; else found again)."""
    # a missing level (-1) picks the appended 0: no evidence either way
    weights = [np.append(model.weights(name), 0.0) for name in FIELDS]
    frequencies = None
    if model.adjust and model.records:
        frequencies = (
            _term_frequency(model, "given", t.given_value),
            _term_frequency(model, "family", t.family_value),
        )
    total = np.empty(len(i), dtype=np.float64)

    def run(lo: int) -> None:
        hi = lo + _CHUNK
        lv = levels[lo:hi]
        part = weights[0][lv[:, 0]]
        for k in range(1, len(FIELDS)):
            part += weights[k][lv[:, k]]
        if frequencies is not None:
            part += _name_frequency_adjustment(
                model,
                t,
                i[lo:hi],
                j[lo:hi],
                lv,
                None if swap is None else swap[lo:hi],
                frequencies,
            )
        total[lo:hi] = part

    _each_chunk(run, len(i))
    return total


_NAME_DIFFERENT = _NAME_LEVELS.index("different")


def _name_frequency_adjustment(
    model: Model,
    t: Table,
    i: np.ndarray,
    j: np.ndarray,
    levels: np.ndarray,
    swapped_pairs: np.ndarray | None,
    frequencies: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Term-frequency adjustment of the name levels, in bits.

    An agreement on a name says as much as that name is rare: ``u`` of the value is its
    share of the records (the keyed frequency table), against the mean ``u`` of exact
    agreement. Exact agreement is adjusted both ways; a near agreement (one typo, a part
    short, a similar spelling) only down, by the more common of the two values compared:
    "María" against "Maríia", or "Hernández" within "Méndez Hernández", is as common as
    "María" or "Hernández", but two rare values that share only a part are not rare
    together. Names compared swapped (given against family) take each value's frequency
    in its own field, so a common given name found in the family field still counts as
    common."""
    out = np.zeros(len(i), dtype=np.float64)
    near = [(levels[:, k] >= 0) & (levels[:, k] < _NAME_DIFFERENT) for k in (0, 1)]
    agreeing = np.flatnonzero(near[0] | near[1])
    if not len(agreeing):
        return out
    a, b = i[agreeing], j[agreeing]
    swap = swapped(t, a, b) if swapped_pairs is None else swapped_pairs[agreeing]
    tf_given, tf_family = frequencies  # per record (``_term_frequency``)
    for k, name, mine, other in (
        (0, "given", tf_given, tf_family),
        (1, "family", tf_family, tf_given),
    ):
        lv = levels[agreeing, k]
        tf = np.maximum(mine[a], np.where(swap, other[b], mine[b]))
        adjust = np.log2(model.u[name][0] / tf)
        adjust = np.where(lv == 0, adjust, np.minimum(adjust, 0.0))
        use = near[k][agreeing]
        out[agreeing[use]] += adjust[use]
    return out


def _term_frequency(model: Model, name: str, values: np.ndarray) -> np.ndarray:
    """Per record: the share of records holding its value of the field (the keyed
    frequency table; a value not in it, or missing, counts as one record)."""
    table = model.frequencies.get(name) or {}
    codes, inverse = np.unique(values, return_inverse=True)
    counts = np.fromiter(
        (table.get(int(c), 1) for c in codes.tolist()), dtype=np.float64, count=len(codes)
    )
    return np.maximum(counts, 1.0)[inverse.reshape(-1)] / model.records


# -- estimation ---------------------------------------------------------------------------


def _pattern_counts(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = np.zeros(len(levels), dtype=np.int64)
    for k in range(levels.shape[1]):
        codes = codes * 8 + (levels[:, k].astype(np.int64) + 1)
    unique, counts = np.unique(codes, return_counts=True)
    patterns = np.zeros((len(unique), levels.shape[1]), dtype=np.int64)
    rest = unique.copy()
    for k in reversed(range(levels.shape[1])):
        patterns[:, k] = rest % 8 - 1
        rest //= 8
    return patterns, counts


def estimate_u(
    t: Table, rng: np.random.Generator, pairs: int = RANDOM_PAIRS
) -> dict[str, list[float]]:
    """u per level from random pairs (Laplace-smoothed)."""
    n = t.n
    pairs = min(pairs, n * (n - 1) // 2)
    i = rng.integers(0, n, size=pairs)
    j = rng.integers(0, n, size=pairs)
    keep = i != j
    levels = compare(t, i[keep], j[keep])
    u: dict[str, list[float]] = {}
    for k, name in enumerate(FIELDS):
        lv = levels[:, k]
        counts = np.bincount(lv[lv >= 0], minlength=len(LEVELS[name])).astype(np.float64)
        prior = np.asarray(_DEFAULT_U[name])
        smoothed = counts + prior * 10  # a few pseudo-pairs of the default shape
        u[name] = (smoothed / smoothed.sum()).tolist()
    return u


def estimate_m(
    levels: np.ndarray,
    u: dict[str, list[float]],
    start: Model,
    *,
    fit_m: bool = True,
    patterns: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, list[float]], float]:
    """m per level and λ by EM over the blocked pairs' comparison patterns.

    The non-matches among blocked pairs agree more often than random pairs (they were
    blocked because something agrees), so EM estimates their own u beside m, starting
    from the random-pair u; only m and λ are kept (scoring uses the random-pair u, the
    right reference for "two different persons"). ``patterns``: ``levels``' distinct
    comparison patterns and their counts, when already counted."""
    found, counts = patterns or _pattern_counts(levels)
    m, share = _em(
        found,
        counts.astype(np.float64),
        list(FIELDS),
        {k: np.asarray(v, dtype=np.float64) for k, v in start.m.items()},
        {k: np.asarray(v, dtype=np.float64) for k, v in u.items()},
        min(max(start.match_share, 1e-4), 0.5),
        fit_m=fit_m,
        fit_u=True,
    )
    return {k: v.tolist() for k, v in m.items()}, share


def _em(
    patterns: np.ndarray,
    counts: np.ndarray,
    used: list[str],
    m: dict[str, np.ndarray],
    u: dict[str, np.ndarray],
    share: float,
    *,
    fit_m: bool,
    fit_u: bool,
) -> tuple[dict[str, np.ndarray], float]:
    """EM over comparison patterns (with their counts) on the ``used`` fields: m (when
    ``fit_m``), the non-matches' u (when ``fit_u``; else u stays fixed) and λ."""
    m = {k: v.copy() for k, v in m.items()}
    u = {k: v.copy() for k, v in u.items()}
    for _ in range(EM_ITERATIONS):
        log_m = np.zeros(len(patterns))
        log_u = np.zeros(len(patterns))
        for name in used:
            lv = patterns[:, FIELDS.index(name)]
            present = lv >= 0
            log_m[present] += np.log(m[name][lv[present]])
            log_u[present] += np.log(u[name][lv[present]])
        a = np.log(share) + log_m
        b = np.log(1 - share) + log_u
        p = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        weighted = p * counts
        unweighted = (1 - p) * counts
        share = float(min(max(weighted.sum() / counts.sum(), 1e-6), 0.999))
        for name in used:
            lv = patterns[:, FIELDS.index(name)]
            present = lv >= 0
            size = len(LEVELS[name])
            if fit_m:
                tally = np.bincount(
                    lv[present], weights=weighted[present], minlength=size
                ) + 1e-3 * np.asarray(_DEFAULT_M[name])  # never exactly zero
                m[name] = tally / tally.sum()
            if fit_u:
                other = np.bincount(
                    lv[present], weights=unweighted[present], minlength=size
                ) + 1e-3 * np.asarray(_DEFAULT_U[name])
                u[name] = other / other.sum()
    return m, share


#: Training sessions (as Splink's): the pairs with an exact level of the ``given`` fields
#: train the m of every other field, with u fixed to the random-pair u. Among blocked
#: pairs, the non-matches agree on what brought them together (the date of birth, a
#: name and year) far more often than random pairs; a single EM over all blocked pairs
#: explains "same given name and date, different family name" as such a non-match and
#: makes a differing family name a near-veto (−12.3 bits on FEBRL4). Inside a session the
#: fields the pairs were chosen by carry no evidence, and the others are compared with
#: the right reference, the random-pair u.
SESSIONS: tuple[tuple[str, ...], ...] = (("dob",), ("given", "family"))
MIN_SESSION_PAIRS = 1000


def estimate_m_sessions(
    levels: np.ndarray, u: dict[str, list[float]], start: Model
) -> tuple[dict[str, list[float]], list[str]]:
    """m per level from the ``SESSIONS`` (a field trained in several: their mean); the
    fields no session could train (too few pairs) keep ``start``'s m and are listed."""
    uu = {k: np.asarray(v, dtype=np.float64) for k, v in u.items()}
    m0 = {k: np.asarray(v, dtype=np.float64) for k, v in start.m.items()}
    trained: dict[str, list[np.ndarray]] = {}
    for chosen in SESSIONS:
        mask = np.ones(len(levels), dtype=bool)
        for name in chosen:
            mask &= levels[:, FIELDS.index(name)] == 0
        if mask.sum() < MIN_SESSION_PAIRS:
            continue
        patterns, counts = _pattern_counts(levels[mask])
        used = [f for f in FIELDS if f not in chosen]
        fitted, _ = _em(
            patterns, counts.astype(np.float64), used, m0, uu, 0.5, fit_m=True, fit_u=False
        )
        for name in used:
            trained.setdefault(name, []).append(fitted[name])
    m = {k: (np.mean(trained[k], axis=0) if k in trained else m0[k]).tolist() for k in FIELDS}
    return m, [k for k in FIELDS if k not in trained]


def frequencies(t: Table) -> dict[str, dict[int, int]]:
    """Keyed frequency tables: how many records hold each name value (values held by
    more than one record; any other counts as one)."""
    out: dict[str, dict[int, int]] = {}
    for name, values in (("given", t.given_value), ("family", t.family_value)):
        codes, counts = np.unique(values[values != 0], return_counts=True)
        keep = counts > 1
        out[name] = dict(zip(codes[keep].tolist(), counts[keep].tolist(), strict=True))
    return out


def estimate(t: Table, i: np.ndarray, j: np.ndarray, levels: np.ndarray, seed: int = 0) -> Model:
    """The model of these records: u from random pairs, m and λ by EM on the blocked
    pairs, the frequency tables; defaults (with frequencies) for small data."""
    model = default_model()
    model.records = t.n
    model.pairs = len(i)
    model.estimated_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    if t.n < MIN_RECORDS_TO_ESTIMATE or len(i) < MIN_RECORDS_TO_ESTIMATE:
        # too few to count name frequencies or fit m: the defaults, no adjustment
        model.version = f"{MODEL_VERSION}-default"
        return model
    model.frequencies = frequencies(t)
    model.adjust = True
    rng = np.random.default_rng(seed)
    model.u = estimate_u(t, rng)
    patterns = _pattern_counts(levels)  # counted once: 40 M pairs take seconds
    model.m, model.match_share = estimate_m(levels, model.u, model, patterns=patterns)
    sessions, untrained = estimate_m_sessions(levels, model.u, model)
    if not untrained:
        # every field trained in a session: λ over all blocked pairs with that m
        model.m = sessions
        _, model.match_share = estimate_m(levels, model.u, model, fit_m=False, patterns=patterns)
    if degenerate(model):
        # EM found another class than "same person" (in a register without duplicates:
        # "same given name and age, different family name and document"): keep the
        # hand-set m and estimate only the share of matches with it
        model.m = default_model().m
        model.m, model.match_share = estimate_m(
            levels, model.u, model, fit_m=False, patterns=patterns
        )
        model.version = f"{MODEL_VERSION}-fixed-m"
    return model


#: a field's disagreement must be evidence against a match: log2(m/u) below this
_DISAGREEMENT_MAX_BITS = -1.0


def degenerate(fitted: Model) -> bool:
    """True when EM's m says that disagreeing on a name, the date of birth or the
    document is no evidence against a match: the class it found is not the same person."""
    for name in ("given", "family", "dob", "doc"):
        m_last, u_last = fitted.m[name][-1], fitted.u[name][-1]
        if u_last > 0 and math.log2(max(m_last, 1e-12) / u_last) > _DISAGREEMENT_MAX_BITS:
            return True
    return False
