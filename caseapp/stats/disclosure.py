"""Statistical disclosure control for published counts (reports.md §4 and §5 `ctdc`).

Pure: counts in, a publishable pattern out. No Flask, no database, no I/O.

What a reader can combine
-------------------------
A reader knows the policy, so a suppressed cell is known to be at least 1 (zeros are
always published). The relations protected against:

1. **The table itself**: its cells sum to its total. Inside one response this is the only
   relation between published numbers.
2. **Declared groups** (`AdditiveGroup`): further sums published in the same response,
   e.g. a subtotal row that is itself a cell.
3. **Marginal tables** (`protect_marginals=True`, the default): anyone can request the
   same filter with fewer dimensions (`by=sex` beside `by=sex,age_group`, or no `by=`),
   so the grand total and every slice that fixes a proper subset of the dimensions (a
   line, a `by=region` cell of a 3-D table, ...) are sums published elsewhere, unless
   they are 1..k-1, in which case every table that shows them suppresses them. Without
   this, `by=sex` minus the published cells of the `F` row of `by=sex,age_group` gives
   the hidden one.

Rules, repeated until nothing changes:

- Primary: a count in 1..k-1 is suppressed; 0 is published as 0.
- Singleton (the spec's rule): in a group whose sum is known, a single hidden entry is the
  sum minus the published ones, so the next smallest non-zero cell of the group is hidden
  too (a zero protects nothing: everyone knows it). If none is left, the group's sum
  (the total or a subtotal cell) is hidden.
- All ones: hidden cells of a group with a known sum that are all exactly 1 are recovered
  (their sum equals their number), so the next smallest cell is added likewise.
- Audit: relations combine (a row minus two columns can isolate a cell even when every
  group has two hidden entries). `_determined` finds, exactly, every hidden entry that
  the known sums fix; a primary one gets a complement from its own groups, else from the
  nearest groups linked to it by hidden cells, and the rules run again.

Guarantee: no primary-suppressed cell or total is uniquely determined (over the reals) by
all the relations above taken together, except a cell that would stay determined even
with every non-zero cell of this table hidden. That happens only through marginals (e.g.
a region whose only non-zero cell is small while every other region is large: total minus
the other regions), can only be fixed in the marginal table (which hides a second region,
so the estimate is conservative), and is listed in `SuppressedTable.exposed_by_marginals`
for the caller to log or refuse. Complementary cells (>= k) may end up determined; that
reveals no small count. For 1-D and 2-D tables the relations are totally unimodular, so
a second non-negative *integer* table moving one unit exists too (tested).

Ties between equal counts are broken by dimension values, not input order, so a table
gets the same pattern whatever order the query returns rows in: two patterns for one table
could be combined. Not covered, see docs/decisions/0005: intervals (a hidden cell may be
bounded, e.g. "between 1 and 6"). Differencing between different filters (January to
June minus January to May), which no per-table method prevents, is handled by the
cell-key `Perturbation` of what is published (cellkey.py, docs/decisions/0016).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, count
from typing import Any

from caseapp.stats import cellkey

RULE_VERSION = "disclosure-2026.2-cellkey"

Key = tuple[Any, ...]
"""A cell's dimension values (hashable), in the order of the table's `dimensions`.

`Any` rather than `Hashable` because `Mapping` is invariant in its key type: callers
pass `dict[tuple[str, str], int]`."""

_P = (1 << 61) - 1  # Mersenne prime for exact-with-overwhelming-probability elimination
_CAREFUL_ROUNDS = 4  # audit rounds adding one complement per determined cell, then eager


@dataclass(frozen=True, slots=True)
class PublishedCount:
    """A count as released: `None` with `suppressed=True`, or the exact count."""

    count: int | None
    suppressed: bool
    suppression: str | None = None  # PRIMARY or COMPLEMENTARY when suppressed

    def as_dict(self) -> dict[str, object]:
        return {"count": self.count, **marks(self.suppressed, self.suppression)}


PRIMARY, COMPLEMENTARY = "primary", "complementary"


def marks(suppressed: bool, suppression: str | None) -> dict[str, object]:
    """`suppressed`, plus why for a suppressed count: `primary` (a count from 1 to k-1)
    or `complementary` (a larger count or zero hidden so another cannot be deduced)."""
    if not suppressed:
        return {"suppressed": False}
    return {"suppressed": True, "suppression": suppression or PRIMARY}


@dataclass(frozen=True, slots=True)
class PublishedCell:
    key: Key
    count: int | None
    suppressed: bool
    suppression: str | None = None


@dataclass(frozen=True, slots=True)
class AdditiveGroup:
    """Cells whose sum is published in the same response.

    `sum_key` is the cell that holds the sum (a subtotal row); `None` means the table's
    grand total. Example: a region table that also shows "Lima (all)" as a cell declares
    `AdditiveGroup(members=(("1501",), ("15",)), sum_key=("lima_all",))`.
    """

    members: tuple[Key, ...]
    sum_key: Key | None = None


@dataclass(frozen=True, slots=True)
class SuppressedTable:
    """The publishable table.

    `exposed_by_marginals`: hidden small cells that published marginal tables would pin
    down whatever this table hides (module docstring); log or refuse such a combination.
    """

    dimensions: tuple[str, ...]
    threshold: int
    cells: tuple[PublishedCell, ...]
    total: PublishedCount
    exposed_by_marginals: tuple[Key, ...] = ()
    rule_version: str = RULE_VERSION

    def rows(self) -> list[dict[str, object]]:
        """Cells in the API shape: one key per dimension plus `count` and `suppressed`."""
        out: list[dict[str, object]] = []
        for cell in self.cells:
            row: dict[str, object] = dict(zip(self.dimensions, cell.key, strict=True))
            row["count"] = cell.count
            row.update(marks(cell.suppressed, cell.suppression))
            out.append(row)
        return out


@dataclass(frozen=True, slots=True)
class Perturbation:
    """Cell-key perturbation of what passes suppression (cellkey.py, ADR 0016).

    `keys` maps a cell to the sum of its units' record keys; `total_key` is the total's.
    With `max_noise` > 0 every published non-zero count needs its key (a missing one is
    a programming error, never an exact count published by accident).
    """

    max_noise: int
    keys: Mapping[Key, int]
    total_key: int

    def value(self, count: int, key: int | None, k: int, what: object) -> int:
        if count == 0 or self.max_noise <= 0:
            return count
        if key is None:
            raise ValueError(f"no cell key for {what!r}: cannot publish it perturbed")
        return cellkey.perturb(count, cellkey.cell_key(key), k, self.max_noise)


def publish_count(
    count: int, k: int, *, key: int | None = None, max_noise: int = 0
) -> PublishedCount:
    """A stand-alone count (e.g. `total_screenings`): primary suppression only, then
    cell-key perturbation when `max_noise` > 0 (`key`: the sum of its record keys)."""
    _check_count(count, "count")
    _check_k(k)
    if 0 < count < k:
        return PublishedCount(None, True, PRIMARY)
    noisy = Perturbation(max_noise, {}, 0).value(count, key, k, "count")
    return PublishedCount(noisy, False)


def suppress_table(
    dimensions: Sequence[str],
    cells: Mapping[Key, int],
    total: int,
    k: int,
    *,
    groups: Sequence[AdditiveGroup] = (),
    protect_marginals: bool = True,
    check_total: bool = True,
    perturbation: Perturbation | None = None,
) -> SuppressedTable:
    """Suppress a count table so no small count is published or recoverable.

    `cells` maps each cell's dimension values (a tuple aligned with `dimensions`) to its
    count; missing combinations are zeros. With `check_total` the cells must sum to
    `total`. Pass `check_total=False` for a multi-valued dimension (`purpose`) or a table
    that also holds subtotal cells, and declare the sums that do hold as `groups` (e.g.
    the leaf cells with `sum_key=None`): the all-cells-versus-total group is still
    protected as if it were an equation, which can only suppress more, never less.

    `protect_marginals` (default) also protects against the tables that the same API
    serves for the same filter with fewer dimensions (module docstring, point 3). Turn it
    off only for a table whose marginals are never published.

    `perturbation`: suppression is decided on the true counts; every count then
    published (cells and total, each with its own cell key) gets its cell-key noise, so
    published cells no longer add up to the published total (ADR 0016).
    """
    dims = tuple(dimensions)
    _check_k(k)
    _check_count(total, "total")
    if len(set(dims)) != len(dims):
        raise ValueError("dimension names must be unique")
    keys = list(cells)
    counts = [cells[key] for key in keys]
    for key, n in zip(keys, counts, strict=True):
        if not isinstance(key, tuple) or len(key) != len(dims):
            raise ValueError(f"cell key {key!r} must be a tuple of {len(dims)} values")
        _check_count(n, f"count of {key!r}")
    if check_total and sum(counts) != total:
        raise ValueError(f"cells sum to {sum(counts)}, not to the total {total}")

    table = _Table(dims, keys, counts, total, k)
    everything = list(range(len(keys)))
    table.add_group(everything, table.total_entry)
    index = {key: i for i, key in enumerate(keys)}
    for group in groups:
        try:
            members = [index[key] for key in group.members]
            sum_entry = table.total_entry if group.sum_key is None else index[group.sum_key]
        except KeyError as exc:
            raise ValueError(f"group refers to an unknown cell {exc.args[0]!r}") from None
        if sum_entry in members or len(set(members)) != len(members):
            raise ValueError("a group lists a cell twice or contains its own sum")
        table.add_group(members, sum_entry)
    if protect_marginals and dims:
        # Every table the API serves for the same filter with fewer dimensions: the grand
        # total (no `by=`) and, for each proper subset of the dimensions, its cells.
        table.add_group(everything, None, outside_sum=total)
        table.total_known_elsewhere = not 0 < total < k
        for size in range(1, len(dims)):
            for fixed in combinations(range(len(dims)), size):
                slices: dict[Key, list[int]] = {}
                for i, key in enumerate(keys):
                    slices.setdefault(tuple(key[d] for d in fixed), []).append(i)
                for members in slices.values():
                    table.add_group(members, None)

    table.run()
    supp = table.suppressed
    noisy = perturbation or Perturbation(0, {}, 0)

    def shown(count: int, key: int | None, what: object) -> int:
        return noisy.value(count, key, k, what)

    def why(entry: int) -> str | None:
        if not supp[entry]:
            return None
        return PRIMARY if entry in table.primary else COMPLEMENTARY

    published_cells = tuple(
        PublishedCell(
            key,
            None if supp[i] else shown(counts[i], noisy.keys.get(key), key),
            supp[i],
            why(i),
        )
        for i, key in enumerate(keys)
    )
    t = table.total_entry
    return SuppressedTable(
        dimensions=dims,
        threshold=k,
        cells=published_cells,
        total=PublishedCount(
            None if supp[t] else shown(total, noisy.total_key, "total"), supp[t], why(t)
        ),
        exposed_by_marginals=tuple(keys[i] for i in sorted(table.exposed) if i != t),
    )


# -- the algorithm -------------------------------------------------------------------------


@dataclass(slots=True)
class _Group:
    """Members sum to an entry of this table (`sum_entry`) or to an outside marginal."""

    members: list[int]
    sum_entry: int | None
    outside_sum: int


class _Table:
    """Mutable working state; entries are the cells `0..n-1` and the total `n`."""

    def __init__(
        self, dims: tuple[str, ...], keys: list[Key], counts: list[int], total: int, k: int
    ) -> None:
        self.k = k
        self.values = [*counts, total]
        self.total_entry = len(counts)
        self.suppressed = [0 < v < k for v in self.values]
        self.primary = frozenset(i for i, s in enumerate(self.suppressed) if s)
        # Canonical tie-break: dimension name order, then the value's type and text.
        order = sorted(
            range(len(keys)),
            key=lambda i: tuple(
                (d, type(v).__name__, str(v)) for d, v in sorted(zip(dims, keys[i], strict=True))
            ),
        )
        self.rank = [0] * (len(counts) + 1)
        for position, i in enumerate(order):
            self.rank[i] = position
        self.rank[self.total_entry] = len(counts)
        self.groups: list[_Group] = []
        self.groups_of: list[list[int]] = [[] for _ in self.values]
        self.exposed: set[int] = set()
        self.pinned: list[bool] = []
        self.total_known_elsewhere = False
        self._hopeless: frozenset[int] | None = None

    def add_group(
        self, members: list[int], sum_entry: int | None, *, outside_sum: int | None = None
    ) -> None:
        if sum_entry is None and outside_sum is None:
            outside_sum = sum(self.values[i] for i in members)
        outside = outside_sum or 0
        g = len(self.groups)
        self.groups.append(_Group(members, sum_entry, outside))
        for i in members:
            self.groups_of[i].append(g)
        if sum_entry is not None:
            self.groups_of[sum_entry].append(g)

    # -- group state -----------------------------------------------------------------
    def _sum_known(self, g: _Group) -> bool:
        if g.sum_entry is None:
            return not 0 < g.outside_sum < self.k
        return not self.suppressed[g.sum_entry]

    def _cheapest(self, candidates: Iterable[int]) -> int | None:
        best = [i for i in candidates if not self.suppressed[i] and self.values[i] > 0]
        return min(best, key=self._cost) if best else None

    def _cost(self, i: int) -> tuple[bool, int, int]:
        # A cell that is the only non-zero one of a published marginal is published there
        # anyway: hiding it protects nothing, so it is the last resort.
        return (self.pinned[i], self.values[i], self.rank[i])

    def _complement_for(self, g: _Group, *, useful_only: bool = False) -> int | None:
        """Next entry to suppress in a group that leaves a cell recoverable.

        `useful_only` (for the audit) skips what a reader knows anyway: pinned cells, and
        the total when a request without `by=` publishes it.
        """
        found = self._cheapest(g.members)
        if useful_only and found is not None and self.pinned[found]:
            found = None
        s = g.sum_entry
        if found is None and s is not None and not self.suppressed[s]:
            pointless = useful_only and s == self.total_entry and self.total_known_elsewhere
            found = None if pointless else s
        return found

    def _needs_more(self, g: _Group) -> bool:
        hidden = [i for i in g.members if self.suppressed[i]]
        known = self._sum_known(g)
        entries = len(hidden) + (0 if known else 1)
        if entries == 1:
            return True
        return known and len(hidden) >= 2 and sum(self.values[i] for i in hidden) == len(hidden)

    def _suppress(self, i: int, queue: deque[int]) -> None:
        self.suppressed[i] = True
        queue.extend(self.groups_of[i])

    # -- rules -----------------------------------------------------------------------
    def _apply_group_rules(self) -> None:
        queue = deque(range(len(self.groups)))
        while queue:
            g = self.groups[queue.popleft()]
            if self._needs_more(g):
                target = self._complement_for(g)
                if target is not None:
                    self._suppress(target, queue)

    def run(self) -> None:
        self.pinned = [False] * len(self.values)
        for g in self.groups:
            nonzero = [i for i in g.members if self.values[i] > 0]
            if g.sum_entry is None and len(nonzero) == 1 and self._sum_known(g):
                self.pinned[nonzero[0]] = True
        for rounds in count():
            self._apply_group_rules()
            at_risk = sorted(
                (self._determined_entries(self.suppressed) & self.primary) - self.hopeless(),
                key=lambda i: self.rank[i],
            )
            if not at_risk:
                break
            # A few rounds of the cheapest single complement usually settle it; after that
            # take every candidate of the nearest groups at once so that large sparse
            # tables finish in a bounded number of eliminations.
            eager = rounds >= _CAREFUL_ROUNDS
            repairs = {r for i in at_risk for r in self._repair(i, eager=eager)}
            if not repairs:
                break
            queue: deque[int] = deque()
            for r in repairs:
                self._suppress(r, queue)
        self.exposed = set(self.hopeless())

    def _repair(self, entry: int, *, eager: bool) -> list[int]:
        """Complements for a determined entry: its own groups first, then nearer groups.

        One (the cheapest) normally; `eager` takes the best of every group in the layer.
        """
        seen_groups: set[int] = set()
        seen_entries = {entry}
        frontier = [entry]
        while frontier:
            layer = sorted({g for i in frontier for g in self.groups_of[i]} - seen_groups)
            seen_groups.update(layer)
            options = [
                c
                for g in layer
                if (c := self._complement_for(self.groups[g], useful_only=True)) is not None
            ]
            if options:
                return sorted(set(options)) if eager else [min(options, key=self._cost)]
            frontier = []
            for g in layer:
                group = self.groups[g]
                for i in [*group.members, *([] if group.sum_entry is None else [group.sum_entry])]:
                    if self.suppressed[i] and i not in seen_entries:
                        seen_entries.add(i)
                        frontier.append(i)
        return []

    def hopeless(self) -> frozenset[int]:
        """Primary entries derivable even if every non-zero entry were suppressed.

        Only outside (marginal) sums can pin them; suppressing more here cannot help.
        """
        if self._hopeless is None:
            everything = [v > 0 for v in self.values]
            self._hopeless = frozenset(self._determined_entries(everything) & self.primary)
        return self._hopeless

    def _determined_entries(self, hidden: list[bool]) -> set[int]:
        equations: list[dict[int, int]] = []
        for g in self.groups:
            if g.sum_entry is None and not self._sum_known(g):
                continue  # an unpublished outside sum is a fresh unknown: no information
            row = {i: 1 for i in g.members if hidden[i]}
            if g.sum_entry is not None and hidden[g.sum_entry]:
                row[g.sum_entry] = _P - 1
            if row:
                equations.append(row)
        return _determined(equations)


def _determined(equations: list[dict[int, int]]) -> set[int]:
    """Unknowns fixed by the equations: `e_i` lies in the row space.

    Incremental sparse reduced row echelon form modulo a 61-bit prime. The equations have
    coefficients 0/±1, so a wrong answer needs a minor divisible by that prime.
    """
    pivots: dict[int, dict[int, int]] = {}
    holders: dict[int, set[int]] = {}  # unknown -> pivots whose row mentions it
    for equation in sorted(equations, key=len):  # sparse rows first: far less fill-in
        row = dict(equation)
        for v in [v for v in row if v in pivots]:
            c = row.pop(v)
            for w, cw in pivots[v].items():
                if w != v:
                    nw = (row.get(w, 0) - c * cw) % _P
                    if nw:
                        row[w] = nw
                    else:
                        row.pop(w, None)
        if not row:
            continue
        p = min(row, key=lambda v: (len(holders.get(v, ())), v))
        inverse = pow(row[p], _P - 2, _P)
        row = {v: c * inverse % _P for v, c in row.items()}
        for q in holders.pop(p, set()):
            other = pivots[q]
            c = other.pop(p)
            for w, cw in row.items():
                if w == p:
                    continue
                old = other.get(w, 0)
                nw = (old - c * cw) % _P
                if nw:
                    other[w] = nw
                    if not old:
                        holders.setdefault(w, set()).add(q)
                else:
                    other.pop(w, None)
                    holders[w].discard(q)
        pivots[p] = row
        for w in row:
            if w != p:
                holders.setdefault(w, set()).add(p)
    return {p for p, row in pivots.items() if len(row) == 1}


# -- person-level release (ctdc layout) --------------------------------------------------------

Coarsening = tuple[str, Callable[[object], Hashable]]
"""`(column, step)`: `step` maps a value of the column to a coarser value."""


@dataclass(frozen=True, slots=True)
class KAnonymized:
    rows: list[dict[str, object]]
    dropped: int
    coarsenings_applied: int


def k_anonymize(
    rows: Iterable[Mapping[str, object]],
    quasi_identifiers: Sequence[str],
    k: int,
    coarsenings: Sequence[Coarsening] = (),
    *,
    max_dropped: int = 0,
) -> KAnonymized:
    """Release rows so every combination of quasi-identifiers occurs at least k times.

    Coarsening comes first because a broader band keeps a person in the data while a
    dropped row is lost: the steps are applied in order, each to the whole column (global
    recoding, so a column means the same thing in every row), while more than
    `max_dropped` rows sit in classes smaller than k. Rows still in such classes are then
    dropped. Input rows are not modified.
    """
    _check_k(k)
    qis = tuple(quasi_identifiers)
    for column, _ in coarsenings:
        if column not in qis:
            raise ValueError(f"coarsening of {column!r}, which is not a quasi-identifier")
    work = [dict(row) for row in rows]
    missing = {q for row in work for q in qis if q not in row}
    if missing:
        raise ValueError(f"rows lack quasi-identifier columns {sorted(missing)}")

    def classes() -> Counter[tuple[object, ...]]:
        return Counter(tuple(row[q] for q in qis) for row in work)

    applied = 0
    sizes = classes()
    for column, step in coarsenings:
        if sum(n for n in sizes.values() if n < k) <= max_dropped:
            break
        for row in work:
            row[column] = step(row[column])
        applied += 1
        sizes = classes()
    released = [row for row in work if sizes[tuple(row[q] for q in qis)] >= k]
    dropped = len(work) - len(released)
    return KAnonymized(rows=released, dropped=dropped, coarsenings_applied=applied)


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"threshold k must be an integer >= 1, not {k!r}")


def _check_count(count: int, what: str) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"{what} must be a non-negative integer, not {count!r}")
