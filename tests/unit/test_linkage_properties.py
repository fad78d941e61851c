"""Properties of probabilistic linkage that hold for any input (hypothesis)."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseapp.facts import encoding, probabilistic
from caseapp.facts.linkage import normalize_document

KEY = bytes(range(7, 39))
GIVEN = ["María", "Maria", "Mara", "Rosa", "Ana Lucía", None]
FAMILY = ["Quispe", "Quispe Mamani", "Qispe Mamani", "Mamani Quispe", "Huamán"]
DATES = [
    date(2004, 3, 1),
    date(2004, 1, 3),  # day and month swapped
    date(2004, 3, 2),  # one digit
    date(2004, 11, 19),
    date(2005, 3, 1),  # one digit (the year)
    date(1990, 7, 7),
]
DOCUMENTS = [
    ("dni", "41234567"),
    ("dni", "41234568"),  # one digit
    ("dni", "70000001"),
    ("passport", "A1234567"),
    ("other", "41234567"),
    ("other", "99887766"),
]

record = st.fixed_dictionaries(
    {
        "given": st.sampled_from(GIVEN),
        "family": st.sampled_from(FAMILY),
        "dob": st.one_of(st.none(), st.sampled_from(DATES)),
        "year": st.sampled_from([2003, 2004, 2005]),
        "sex": st.sampled_from(["F", "M", None]),
        "doc": st.one_of(st.none(), st.sampled_from(DOCUMENTS)),
    }
)


def encode(r: dict) -> encoding.LinkKeys:
    doc_type, number = r["doc"] or (None, None)
    return encoding.encoder(KEY).encode(
        given_names=r["given"],
        family_names=r["family"],
        sex=r["sex"],
        date_of_birth=r["dob"],
        birth_year=None if r["dob"] else r["year"],
        doc_type=doc_type,
        doc_number=number,
    )


def digits(d: date) -> str:
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


def same_date_mistyped(a: date, b: date) -> bool:
    """Equal, one digit apart, or day and month swapped (plaintext, independently of
    the keyed codes)."""
    if a == b or (a.year == b.year and a.month == b.day and a.day == b.month):
        return True
    return sum(x != y for x, y in zip(digits(a), digits(b), strict=True)) == 1


def same_number_mistyped(a: str, b: str) -> bool:
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, min_size=2, max_size=30))
def test_no_person_holds_conflicting_dates_of_birth_or_documents(records):
    clusters = probabilistic.link([encode(r) for r in records]).clusters.tolist()
    members: dict[int, list[int]] = {}
    for index, c in enumerate(clusters):
        members.setdefault(c, []).append(index)
    for group in members.values():
        # documents: one number per type, up to one mistyped character ("other" is any
        # document: a person may hold several)
        by_type: dict[str, set[str]] = {}
        for index in group:
            doc = records[index]["doc"]
            normalized = normalize_document(*doc) if doc else None
            if normalized and not normalized.startswith("other:"):
                kind, number = normalized.split(":", 1)
                by_type.setdefault(kind, set()).add(number)
        for numbers in by_type.values():
            assert all(same_number_mistyped(a, b) for a in numbers for b in numbers), numbers
        # dates of birth: the dates that one document ties together are one class; any
        # two classes hold the same date mistyped
        classes: dict[object, set[date]] = {}
        for index in group:
            r = records[index]
            if r["dob"] is None:
                continue
            doc = normalize_document(*r["doc"]) if r["doc"] else None
            classes.setdefault(doc or ("record", index), set()).add(r["dob"])
        values = list(classes.values())
        for x in range(len(values)):
            for y in range(x + 1, len(values)):
                assert any(same_date_mistyped(a, b) for a in values[x] for b in values[y]), (
                    values[x],
                    values[y],
                )


@settings(max_examples=30, deadline=None)
@given(st.lists(record, min_size=2, max_size=20), st.randoms())
def test_the_result_does_not_depend_on_the_input_order(records, rng):
    def partition(rows: list[dict]) -> set[frozenset[int]]:
        clusters = probabilistic.link([encode(r) for r in rows]).clusters.tolist()
        groups: dict[int, set[int]] = {}
        for index, c in enumerate(clusters):
            groups.setdefault(c, set()).add(rows[index]["_id"])
        return {frozenset(g) for g in groups.values()}

    rows = [dict(r, _id=i) for i, r in enumerate(records)]
    shuffled = rows[:]
    rng.shuffle(shuffled)
    # ties between equal weights may be broken differently; the sizes of the persons
    # found must not change
    assert sorted(map(len, partition(rows))) == sorted(map(len, partition(shuffled)))
