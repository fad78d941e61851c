"""Disclosure control (reports.md §4): one row per situation, then properties over random tables."""

from __future__ import annotations

import random
from fractions import Fraction
from itertools import combinations, product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseapp.stats.disclosure import (
    AdditiveGroup,
    SuppressedTable,
    k_anonymize,
    publish_count,
    suppress_table,
)


def one_dim(counts: dict[str, int], k: int = 10) -> SuppressedTable:
    cells = {(name,): n for name, n in counts.items()}
    return suppress_table(["region"], cells, sum(counts.values()), k)


def hidden(table: SuppressedTable) -> set[Any]:
    """Hidden cells by their (single) value, or by key tuple for 2+ dimensions."""
    return {c.key[0] if len(c.key) == 1 else c.key for c in table.cells if c.suppressed}


# -- one dimension: the spec's rules ----------------------------------------------------------

ONE_DIM_CASES = [
    ("all cells at or above k -> nothing suppressed", {"a": 12, "b": 40}, 10, set(), False),
    ("a count equal to k is published", {"a": 10, "b": 50}, 10, set(), False),
    ("a count of k-1 is suppressed", {"a": 9, "b": 8, "c": 50}, 10, {"a", "b"}, False),
    ("zero is published as zero", {"a": 0, "b": 25, "c": 30}, 10, set(), False),
    (
        "one small cell among large ones -> next smallest suppressed too",
        {"a": 3, "b": 50, "c": 20, "d": 40},
        10,
        {"a", "c"},
        False,
    ),
    (
        "two small cells -> no complementary needed",
        {"a": 3, "b": 4, "c": 50},
        10,
        {"a", "b"},
        False,
    ),
    ("only two cells, one small -> both suppressed", {"a": 3, "b": 50}, 10, {"a", "b"}, False),
    (
        "zero is never chosen as the complementary cell",
        {"a": 3, "b": 0, "c": 30, "d": 45},
        10,
        {"a", "c"},
        False,
    ),
    (
        "one small cell and only zeros beside it -> the total is small and suppressed",
        {"a": 3, "b": 0},
        10,
        {"a"},
        True,
    ),
    ("all cells small and total small -> total suppressed", {"a": 3, "b": 4}, 10, {"a", "b"}, True),
    (
        "all cells small but total at least k -> total published, no cell recoverable",
        {"a": 3, "b": 4, "c": 5},
        10,
        {"a", "b", "c"},
        False,
    ),
    (
        "two cells of 1 -> a third cell, since a suppressed cell is known to be at least 1",
        {"a": 1, "b": 1, "c": 50, "d": 30},
        10,
        {"a", "b", "d"},
        False,
    ),
    (
        "k cells of 1 and nothing else -> total suppressed (all ones would be recovered)",
        {f"r{i}": 1 for i in range(10)},
        10,
        {f"r{i}" for i in range(10)},
        True,
    ),
    (
        "equal counts: the complement is chosen by value order, not input order",
        {"z": 20, "a": 3, "m": 20},
        10,
        {"a", "m"},
        False,
    ),
    ("k=1 publishes every count", {"a": 1, "b": 2}, 1, set(), False),
    ("k=2 suppresses only ones", {"a": 1, "b": 2, "c": 3}, 2, {"a", "b"}, False),
]


@pytest.mark.parametrize(
    ("counts", "k", "expected", "total_suppressed"),
    [case[1:] for case in ONE_DIM_CASES],
    ids=[case[0] for case in ONE_DIM_CASES],
)
def test_one_dimension(
    counts: dict[str, int], k: int, expected: set[str], total_suppressed: bool
) -> None:
    table = one_dim(counts, k)
    assert hidden(table) == expected
    assert table.total.suppressed is total_suppressed
    assert table.total.count == (None if total_suppressed else sum(counts.values()))
    for cell in table.cells:
        assert cell.count == (None if cell.suppressed else counts[cell.key[0]])


def test_rows_have_the_api_shape() -> None:
    table = suppress_table(["sex", "age_group"], {("F", "adult"): 12, ("M", "adult"): 3}, 15, 10)
    assert table.rows() == [
        {
            "sex": "F",
            "age_group": "adult",
            "count": None,
            "suppressed": True,
            "suppression": "complementary",
        },
        {
            "sex": "M",
            "age_group": "adult",
            "count": None,
            "suppressed": True,
            "suppression": "primary",
        },
    ]
    assert table.total.as_dict() == {"count": 15, "suppressed": False}
    assert table.threshold == 10 and table.dimensions == ("sex", "age_group")


def test_table_without_dimensions_is_its_total() -> None:
    assert suppress_table([], {(): 4}, 4, 10).total.suppressed
    assert suppress_table([], {(): 40}, 40, 10).total.count == 40


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (1, None), (9, None), (10, 10)])
def test_standalone_count(count: int, expected: int | None) -> None:
    assert publish_count(count, 10).count == expected


@pytest.mark.parametrize(
    ("cells", "total", "k"),
    [
        ({("a",): 3, ("b",): 4}, 8, 10),  # cells do not add up
        ({("a",): -1}, 0, 10),
        ({("a", "x"): 1}, 1, 10),  # key longer than the dimensions
        ({("a",): 3}, 3, 0),
    ],
    ids=["total mismatch", "negative count", "key of wrong length", "k below 1"],
)
def test_invalid_input_is_rejected(cells: dict[tuple[str, ...], int], total: int, k: int) -> None:
    with pytest.raises(ValueError):
        suppress_table(["region"], cells, total, k)


# -- several dimensions and extra groups -------------------------------------------------------


def two_dim(grid: list[list[int]], k: int = 10, **options: object) -> SuppressedTable:
    cells = {(f"r{i}", f"c{j}"): n for i, row in enumerate(grid) for j, n in enumerate(row)}
    return suppress_table(["row", "col"], cells, sum(map(sum, grid)), k, **options)  # type: ignore[arg-type]


def test_small_cell_in_a_2x2_table_hides_the_whole_rectangle() -> None:
    """Otherwise `by=row` would give r0 = 23 and the r0 line would reveal the 3."""
    table = two_dim([[3, 20], [30, 40]])
    assert hidden(table) == {("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")}
    assert table.total.count == 93


def test_without_line_protection_only_the_total_is_protected() -> None:
    table = two_dim([[3, 20], [30, 40]], protect_marginals=False)
    assert hidden(table) == {("r0", "c0"), ("r0", "c1")}


def test_small_cell_alone_in_its_row_is_reported_as_exposed_by_marginals() -> None:
    """Row r0 sums to 3 and is hidden in `by=row`, but every other row and the total are
    large: r0/F = total - r1 - r2 whatever this table hides, so only the `by=row` table
    (which hides a second row) protects it. The pattern still blocks single differences."""
    table = two_dim([[3, 0], [20, 30], [25, 35]])
    assert ("r0", "c0") in hidden(table)
    assert table.exposed_by_marginals == (("r0", "c0"),)
    for col in ("c0", "c1"):  # no column has a single hidden cell
        assert sum(1 for key in hidden(table) if key[1] == col) != 1


def test_audit_hides_a_cell_that_only_a_combination_of_relations_recovers() -> None:
    """Every line has 0 or 2+ hidden cells, yet the centre is recoverable: hidden cells sum
    to 29 - 12 = 17, row r2 hides 20 - 12 = 8, column c2 hides 18 - 12 = 6, so the centre
    (in neither) is 17 - 8 - 6 = 3. Hiding the 12 breaks it."""
    grid = [[0, 0, 3], [0, 3, 3], [3, 5, 12]]
    table = two_dim(grid)
    small = {(f"r{i}", f"c{j}") for i, row in enumerate(grid) for j, n in enumerate(row) if n}
    assert hidden(table) == small  # including the 12 at (r2, c2)
    assert table.exposed_by_marginals == ()


def test_declared_subtotal_makes_its_members_a_group() -> None:
    """`ab` = a + b is published, so a alone hidden would be ab - b."""
    cells = {("a",): 3, ("b",): 40, ("c",): 55, ("ab",): 43}
    table = suppress_table(
        ["region"],
        cells,
        98,
        10,
        groups=[
            AdditiveGroup(members=(("a",), ("b",)), sum_key=("ab",)),
            AdditiveGroup(members=(("a",), ("b",), ("c",))),  # the leaves make the total
        ],
        check_total=False,
    )
    assert hidden(table) == {"a", "b"}


def test_declared_subtotal_of_small_members_is_hidden_too() -> None:
    """Members 3 and 0: the subtotal is 3 itself, small, so it is hidden as well."""
    cells = {("a",): 3, ("b",): 0, ("ab",): 3, ("c",): 60, ("d",): 70}
    table = suppress_table(
        ["region"],
        cells,
        133,
        10,
        groups=[AdditiveGroup(members=(("a",), ("b",)), sum_key=("ab",))],
        check_total=False,
    )
    assert {"a", "ab"} <= hidden(table)
    assert not table.total.suppressed


def test_group_with_an_unknown_cell_is_rejected() -> None:
    with pytest.raises(ValueError):
        suppress_table(["region"], {("a",): 3}, 3, 10, groups=[AdditiveGroup(members=(("zz",),))])


def test_overlap_table_combinations_sum_to_total_persons() -> None:
    cells = {
        (("police",),): 40,
        (("police", "prosecutor"),): 25,
        (("mimp",),): 4,
        (("ngo",),): 31,
    }
    table = suppress_table(["combination"], cells, 100, 10)
    assert hidden(table) == {("mimp",), ("police", "prosecutor")}
    assert table.rows()[2] == {
        "combination": ("mimp",),
        "count": None,
        "suppressed": True,
        "suppression": "primary",
    }


def test_pattern_does_not_depend_on_row_order_or_dimension_order() -> None:
    """Two patterns for one table could be combined, so the pattern must be canonical."""
    rng = random.Random(7)
    grid = {
        (f"r{i}", f"c{j}"): rng.choice([0, 2, 5, 12, 12, 30]) for i in range(4) for j in range(3)
    }
    total = sum(grid.values())
    base = suppress_table(["row", "col"], grid, total, 10)
    items = list(grid.items())
    rng.shuffle(items)
    shuffled = suppress_table(["row", "col"], dict(items), total, 10)
    swapped = suppress_table(["col", "row"], {(c, r): n for (r, c), n in items}, total, 10)
    assert hidden(base) == hidden(shuffled) == {(r, c) for c, r in hidden(swapped)}


# -- properties over random tables ---------------------------------------------------------------
#
# A reader of a table with marginal protection knows: the published cells, that a hidden
# cell is >= 1, and every marginal sum (grand total, and each slice that fixes a proper
# subset of the dimensions) that is 0 or >= k, because other requests publish those.


@st.composite
def counts_for(draw: st.DrawFn, k: int, size: int) -> list[int]:
    small = st.integers(1, max(1, k - 1))
    value = st.one_of(st.just(0), st.just(1), small, st.integers(k, k + 5), st.integers(0, 60))
    return draw(st.lists(value, min_size=size, max_size=size))


Cells = dict[tuple[str, ...], int]


@st.composite
def tables(draw: st.DrawFn, shape_max: tuple[int, ...]) -> tuple[Cells, int]:
    k = draw(st.integers(2, 15))
    shape = [draw(st.integers(1, m)) for m in shape_max]
    keys = list(product(*[[f"v{i}" for i in range(n)] for n in shape]))
    return dict(zip(keys, draw(counts_for(k, len(keys))))), k


def _slices(cells: Cells, n_dims: int) -> list[list[tuple[str, ...]]]:
    """Every marginal group: for each proper subset of dimensions, cells sharing its values."""
    groups: list[list[tuple[str, ...]]] = []
    for size in range(n_dims):
        for fixed in combinations(range(n_dims), size):
            by_value: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
            for key in cells:
                by_value.setdefault(tuple(key[d] for d in fixed), []).append(key)
            groups.extend(by_value.values())
    return groups


def _suppress(cells: Cells, k: int, **options: object) -> SuppressedTable:
    dims = ["a", "b", "c", "d"][: len(next(iter(cells)))]
    return suppress_table(dims, cells, sum(cells.values()), k, **options)  # type: ignore[arg-type]


def _check_no_small_published(table: SuppressedTable, k: int) -> None:
    """(a) No published count is 1..k-1, and a hidden one carries no number."""
    published = [c.count for c in table.cells if not c.suppressed]
    if not table.total.suppressed:
        published.append(table.total.count)
    assert all(n is not None and not 0 < n < k for n in published)
    assert all(c.count is None for c in table.cells if c.suppressed)
    assert table.total.count is None or not table.total.suppressed


def _check_singletons(cells: Cells, table: SuppressedTable, k: int) -> None:
    """(b) Every protected group has 0 or at least 2 hidden non-zero entries.

    A group's entries are its cells and its sum; a marginal sum is hidden when it is
    1..k-1. The one exception is a group whose only non-zero cell is a complementary cell
    (>= k): it equals a published marginal, nothing else could be hidden, and it is no secret.
    """
    hid = {c.key for c in table.cells if c.suppressed}
    assert len(hid) + table.total.suppressed != 1  # the table against its own total
    for group in _slices(cells, len(table.dimensions)):
        values = [cells[key] for key in group]
        entries = len(hid.intersection(group)) + (0 < sum(values) < k)
        lone_complement = sum(1 for n in values if n) == 1 and max(values) >= k
        assert entries != 1 or lone_complement, (group, cells)


def _null_vector(matrix: list[list[int]], target: int) -> list[Fraction] | None:
    """v with matrix @ v = 0 and v[target] = 1 (exact), or None if `target` is determined."""
    n = len(matrix[0]) if matrix else target + 1
    rows = [[Fraction(x) for x in r] for r in matrix if any(r)]
    pivots: list[int] = []
    for col in range(n):
        r = len(pivots)
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        rows[r] = [x / rows[r][col] for x in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                f = rows[i][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[r])]
        pivots.append(col)
    for free in (c for c in range(n) if c not in pivots):
        v = [Fraction(0)] * n
        v[free] = Fraction(1)
        for row_index, col in enumerate(pivots):
            v[col] = -rows[row_index][free]
        if v[target] != 0:
            return [x / v[target] for x in v]
    return None


def _check_not_recoverable(cells: Cells, table: SuppressedTable, k: int, marginals: bool) -> None:
    """(c) No hidden small cell is fixed by everything the reader knows, unless it is
    reported as exposed and stays fixed even with every non-zero cell hidden."""
    if marginals:
        known = [
            g for g in _slices(cells, len(table.dimensions)) if not 0 < sum(cells[c] for c in g) < k
        ]
    else:
        known = [list(cells)] if not table.total.suppressed else []
    hid = [c.key for c in table.cells if c.suppressed]
    everything = [key for key, n in cells.items() if n > 0]

    def matrix(unknown: list[tuple[str, ...]]) -> list[list[int]]:
        return [[1 if key in group else 0 for key in unknown] for group in map(set, known)]

    exposed = set(table.exposed_by_marginals)
    for t, key in enumerate(hid):
        if not 0 < cells[key] < k:
            continue  # a complementary cell (>= k) may be determined: it reveals no small count
        v = _null_vector(matrix(hid), t)
        if v is None:
            assert key in exposed, (key, cells, k)
            assert _null_vector(matrix(everything), everything.index(key)) is None
            continue
        assert key not in exposed
        if len(table.dimensions) <= 2:
            # Lines and totals of a 2-D table are totally unimodular, so v is 0/±1 and one
            # unit along it gives a second non-negative integer completion.
            assert all(x in (-1, 0, 1) for x in v)
            for sign in (1, -1):
                alt = {h: cells[h] + sign * int(x) for h, x in zip(hid, v)}
                assert all(n >= 0 for n in alt.values()) and alt[key] != cells[key]
                for group in known:
                    assert sum(alt.get(c, cells[c]) for c in group) == sum(cells[c] for c in group)
    assert exposed <= set(hid)
    if not marginals:
        assert not exposed


@settings(derandomize=True, max_examples=300, deadline=None)
@given(tables((8,)))
def test_property_one_dimension(case: tuple[Cells, int]) -> None:
    cells, k = case
    table = _suppress(cells, k)
    _check_no_small_published(table, k)  # (a)
    _check_singletons(cells, table, k)  # (b)
    _check_not_recoverable(cells, table, k, marginals=True)  # (c)
    # (c), stronger in 1-D: a second integer completion with every hidden cell still >= 1
    # (zeros are always published), built by moving one unit between two hidden cells.
    keys = list(cells)
    hid = [key for key, c in zip(keys, table.cells) if c.suppressed]
    for key in hid:
        alt = dict(cells)
        if table.total.suppressed:
            alt[key] += 1  # the total is hidden too (small): one more in both
        else:
            other = next(h for h in hid if h != key and (cells[key] >= 2 or cells[h] >= 2))
            step = -1 if cells[key] >= 2 else 1
            alt[key] += step
            alt[other] -= step
            assert sum(alt.values()) == sum(cells.values())
        assert alt[key] != cells[key] and all(alt[h] >= 1 for h in hid)
    assert table.exposed_by_marginals == ()


@settings(derandomize=True, max_examples=250, deadline=None)
@given(tables((4, 4)), st.booleans())
def test_property_two_dimensions(case: tuple[Cells, int], marginals: bool) -> None:
    cells, k = case
    table = _suppress(cells, k, protect_marginals=marginals)
    _check_no_small_published(table, k)
    if marginals:
        _check_singletons(cells, table, k)
    _check_not_recoverable(cells, table, k, marginals)


@settings(derandomize=True, max_examples=120, deadline=None)
@given(tables((3, 3, 2)))
def test_property_three_dimensions(case: tuple[Cells, int]) -> None:
    """In 3-D the marginals include slices that lines do not imply (a `by=a` cell)."""
    cells, k = case
    table = _suppress(cells, k)
    _check_no_small_published(table, k)
    _check_singletons(cells, table, k)
    _check_not_recoverable(cells, table, k, marginals=True)


@st.composite
def subtotal_tables(draw: st.DrawFn) -> tuple[list[int], list[list[int]], int]:
    k = draw(st.integers(2, 15))
    leaves = draw(counts_for(k, draw(st.integers(2, 6))))
    members = st.sets(st.integers(0, len(leaves) - 1), min_size=1).map(sorted)
    return leaves, draw(st.lists(members, min_size=1, max_size=3)), k


@settings(derandomize=True, max_examples=200, deadline=None)
@given(subtotal_tables())
def test_property_declared_groups(case: tuple[list[int], list[list[int]], int]) -> None:
    """Leaves, overlapping subtotal cells and the total: no hidden small entry is fixed by
    the true relations (each subtotal, and the leaves summing to the total) together."""
    leaves, subsets, k = case
    cells = {(f"l{i}",): n for i, n in enumerate(leaves)}
    for g, members in enumerate(subsets):
        cells[(f"s{g}",)] = sum(leaves[i] for i in members)
    leaf_keys = tuple((f"l{i}",) for i in range(len(leaves)))
    groups = [
        AdditiveGroup(members=tuple(leaf_keys[i] for i in m), sum_key=(f"s{g}",))
        for g, m in enumerate(subsets)
    ]
    groups.append(AdditiveGroup(members=leaf_keys))
    total = sum(leaves)
    table = suppress_table(
        ["region"], cells, total, k, groups=groups, check_total=False, protect_marginals=False
    )
    _check_no_small_published(table, k)

    values = {**cells, ("TOTAL",): total}
    relations = [{**{leaf_keys[i]: 1 for i in m}, (f"s{g}",): -1} for g, m in enumerate(subsets)]
    relations.append({**dict.fromkeys(leaf_keys, 1), ("TOTAL",): -1})
    unknown = [c.key for c in table.cells if c.suppressed]
    unknown += [("TOTAL",)] if table.total.suppressed else []
    matrix = [[rel.get(key, 0) for key in unknown] for rel in relations]
    for t, key in enumerate(unknown):
        if 0 < values[key] < k:
            assert _null_vector(matrix, t) is not None, (key, leaves, subsets)


# -- k-anonymity for person-level rows ------------------------------------------------------------

BROADER = {"18_20": "18_29", "21_23": "18_29", "24_26": "18_29", "30_38": "30_47"}


def _broader(band: object) -> str:
    return BROADER.get(str(band), str(band))


def _people(spec: list[tuple[str, str, int]]) -> list[dict[str, object]]:
    return [
        {"ageBand": age, "citizenship": nat, "id": f"{age}-{nat}-{i}"}
        for age, nat, n in spec
        for i in range(n)
    ]


K_ANON_CASES = [
    (
        "classes already of size k -> released unchanged, nothing coarsened",
        [("18_20", "PER", 3), ("30_38", "VEN", 3)],
        0,
        (6, 0, 0),
    ),
    (
        "a rare age band is merged by coarsening before any row is dropped",
        [("18_20", "PER", 2), ("21_23", "PER", 1), ("30_38", "VEN", 3)],
        0,
        (6, 0, 1),
    ),
    (
        "a row still unique after every coarsening is dropped",
        [("18_20", "PER", 3), ("48_plus", "COL", 1)],
        0,
        (3, 1, 2),
    ),
    (
        "max_dropped stops coarsening once few enough rows would be dropped",
        [("18_20", "PER", 3), ("48_plus", "COL", 1)],
        1,
        (3, 1, 0),
    ),
]


@pytest.mark.parametrize(
    ("spec", "max_dropped", "expected"),
    [case[1:] for case in K_ANON_CASES],
    ids=[case[0] for case in K_ANON_CASES],
)
def test_k_anonymize(
    spec: list[tuple[str, str, int]], max_dropped: int, expected: tuple[int, int, int]
) -> None:
    rows = _people(spec)
    steps = [("ageBand", _broader), ("citizenship", lambda _: "unknown")]
    result = k_anonymize(rows, ["ageBand", "citizenship"], 3, steps, max_dropped=max_dropped)
    assert (len(result.rows), result.dropped, result.coarsenings_applied) == expected
    assert all(row["id"] for row in result.rows)  # other columns pass through
    assert rows == _people(spec)  # input untouched


def test_k_anonymize_rejects_coarsening_a_column_that_is_not_a_quasi_identifier() -> None:
    with pytest.raises(ValueError):
        k_anonymize(_people([("18_20", "PER", 3)]), ["ageBand"], 3, [("citizenship", str)])


@settings(derandomize=True, max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(list(BROADER) + ["48_plus"]), st.sampled_from("ABC")), max_size=40
    ),
    st.integers(1, 6),
)
def test_property_k_anonymity(pairs: list[tuple[str, str]], k: int) -> None:
    rows = [{"ageBand": a, "citizenship": c} for a, c in pairs]
    result = k_anonymize(rows, ["ageBand", "citizenship"], k, [("ageBand", _broader)])
    classes: dict[tuple[object, object], int] = {}
    for row in result.rows:
        cls = (row["ageBand"], row["citizenship"])
        classes[cls] = classes.get(cls, 0) + 1
    assert all(n >= k for n in classes.values())
    assert len(result.rows) + result.dropped == len(rows)
