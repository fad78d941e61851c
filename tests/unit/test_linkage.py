"""Privacy-preserving linkage (reports.md §3): normalization, pseudonyms, components."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseapp.core.crypto import normalize_for_index
from caseapp.facts import linkage
from caseapp.facts.linkage import (
    Pseudonyms,
    link,
    normalize_document,
    normalize_name,
    pseudonyms,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))

# -- names ------------------------------------------------------------------------------------

SAME_NAME = [
    ("accents and case", ("José María", "Quispe Mamani"), ("JOSE MARIA", "quispe mamani")),
    ("ñ written as n", ("Ana", "Muñoz Ñahui"), ("ANA", "MUNOZ NAHUI")),
    ("given and family names swapped", ("Rosa", "Quispe"), ("Quispe", "Rosa")),
    ("the two surnames in the other order", ("Rosa", "Quispe Mamani"), ("Rosa", "Mamani Quispe")),
    ("everything in one field", ("Rosa Quispe", None), (None, "Quispe Rosa")),
    (
        "particles present or absent",
        ("María de los Ángeles", "del Castillo"),
        ("Maria Angeles", "Castillo"),
    ),
    ("conjunction y between surnames", ("Luis", "Pérez y García"), ("Luis", "Perez Garcia")),
    ("hyphenated surname", ("Luis", "Pérez-García"), ("Luis", "Perez Garcia")),
    ("apostrophe joins", ("Sean", "O'Neill"), ("Sean", "ONeill")),
    ("typographic apostrophe", ("Sean", "O’Neill"), ("Sean", "O'Neill")),
    (
        "dots, commas and extra spaces",
        ("  J.  Carlos ", "Rojas,  Vera."),
        ("J Carlos", "Rojas Vera"),
    ),
    ("letters NFKD does not decompose", ("Łukasz", "Ørsted"), ("Lukasz", "Orsted")),
]


@pytest.mark.parametrize(
    ("first", "second"), [c[1:] for c in SAME_NAME], ids=[c[0] for c in SAME_NAME]
)
def test_names_that_must_normalize_alike(
    first: tuple[str | None, str | None], second: tuple[str | None, str | None]
) -> None:
    assert normalize_name(*first) == normalize_name(*second)
    assert normalize_name(*first)  # not empty


DIFFERENT_NAME = [
    ("different surname", ("Rosa", "Quispe"), ("Rosa", "Quispe Mamani")),
    ("San Martín keeps San", ("Luis", "San Martín"), ("Luis", "Martín")),
    ("a letter differs", ("Rosa", "Quispe"), ("Rosa", "Quispi")),
]


@pytest.mark.parametrize(
    ("first", "second"), [c[1:] for c in DIFFERENT_NAME], ids=[c[0] for c in DIFFERENT_NAME]
)
def test_names_that_must_stay_different(
    first: tuple[str | None, str | None], second: tuple[str | None, str | None]
) -> None:
    assert normalize_name(*first) != normalize_name(*second)


@pytest.mark.parametrize(
    ("given", "family", "expected"),
    [
        ("José María", "de la Cruz Quispe", "CRUZ JOSE MARIA QUISPE"),
        ("De", "La", "DE LA"),  # only particles: kept rather than an empty name
        ("", None, ""),
        ("ß", "Straße", "SS STRASSE"),
    ],
)
def test_normalized_form(given: str | None, family: str | None, expected: str) -> None:
    assert normalize_name(given, family) == expected


# -- documents --------------------------------------------------------------------------------

DOCUMENTS = [
    ("DNI with separators", "dni", " 45.678-912 ", "dni:45678912"),
    ("DNI without its leading zero", "dni", "4567891", "dni:4567891"),
    ("DNI with its leading zero", "dni", "04567891", "dni:4567891"),
    ("DNI with check digit", "dni", "45678912-3", "dni:45678912"),
    ("DNI with a letter check digit", "dni", "45678912 - K", "dni:45678912"),
    ("type is case-insensitive", "DNI", "45678912", "dni:45678912"),
    ("carné de extranjería padded", "carne_extranjeria", "000458712", "carne_extranjeria:458712"),
    ("passport keeps zeros and letters", "passport", "ab-0045871", "passport:AB0045871"),
    (
        "Venezuelan cédula with series letter",
        "cedula_foreign",
        "V-18.457.963",
        "cedula_foreign:18457963",
    ),
    ("Venezuelan cédula without it", "cedula_foreign", "18457963", "cedula_foreign:18457963"),
    ("no document", "none", "45678912", None),
    ("empty number", "dni", "   ", None),
    ("missing type", None, "45678912", None),
    ("all zeros placeholder", "dni", "00000000", None),
    ("repeated digit placeholder", "dni", "99999999", None),
    ("sequence placeholder", "dni", "12345678", None),
    ("S/N placeholder", "other", "S/N", None),
    ("no digits at all", "other", "SIN DOCUMENTO", None),
    ("too short", "other", "12", None),
]


@pytest.mark.parametrize(
    ("doc_type", "number", "expected"), [c[1:] for c in DOCUMENTS], ids=[c[0] for c in DOCUMENTS]
)
def test_normalize_document(doc_type: str | None, number: str, expected: str | None) -> None:
    assert normalize_document(doc_type, number) == expected


def test_same_number_under_different_document_types_does_not_match() -> None:
    assert normalize_document("dni", "45678912") != normalize_document("passport", "45678912")


# -- pseudonyms -------------------------------------------------------------------------------


def make(
    *,
    doc: tuple[str | None, str | None] = (None, None),
    name: tuple[str | None, str | None] = ("Rosa", "Quispe Mamani"),
    dob: date | None = None,
    sex: str | None = "F",
    year: int | None = None,
    key: bytes = KEY,
) -> Pseudonyms:
    return pseudonyms(
        key,
        doc_type=doc[0],
        doc_number=doc[1],
        given_names=name[0],
        family_names=name[1],
        date_of_birth=dob,
        sex=sex,
        birth_year=year,
    )


def test_pseudonyms_are_keyed_hashes_without_plaintext() -> None:
    p = make(doc=("dni", "45678912"), dob=date(1990, 5, 1))
    assert p.doc and p.name_dob and p.name_sex_year
    for value in (p.doc, p.name_dob, p.name_sex_year):
        assert len(value) == 64 and int(value, 16) >= 0
        for plain in ("45678912", "ROSA", "QUISPE", "1990"):
            assert plain not in value.upper()
    assert len({p.doc, p.name_dob, p.name_sex_year}) == 3  # purposes never collide
    assert (p.birth_year, p.sex) == (1990, "F")


def test_a_different_key_gives_different_pseudonyms() -> None:
    a = make(doc=("dni", "45678912"), dob=date(1990, 5, 1))
    b = make(doc=("dni", "45678912"), dob=date(1990, 5, 1), key=OTHER_KEY)
    assert a.doc != b.doc and a.name_dob != b.name_dob and a.name_sex_year != b.name_sex_year


def test_same_inputs_give_the_same_pseudonyms() -> None:
    assert make(doc=("dni", "045678912"), dob=date(1990, 5, 1)) == make(
        doc=("DNI", "45.678.912"), name=("QUISPE MAMANI", "rosa"), dob=date(1990, 5, 1)
    )


@pytest.mark.parametrize(
    ("situation", "kwargs", "present"),
    [
        ("no document, no birth data", {}, set()),
        ("age only", {"year": 1990}, {"name_sex_year"}),
        (
            "date of birth gives the year too",
            {"dob": date(1990, 5, 1)},
            {"name_dob", "name_sex_year"},
        ),
        ("unknown sex is not 'the same sex'", {"year": 1990, "sex": "unknown"}, set()),
        ("intersex can match intersex", {"year": 1990, "sex": "intersex"}, {"name_sex_year"}),
        ("one name part is too weak", {"year": 1990, "name": ("Rosa", None)}, set()),
        ("document alone", {"doc": ("passport", "AB45871")}, {"doc"}),
    ],
)
def test_which_pseudonyms_exist(
    situation: str, kwargs: dict[str, object], present: set[str]
) -> None:
    p = make(**kwargs)  # type: ignore[arg-type]
    assert {f for f in ("doc", "name_dob", "name_sex_year") if getattr(p, f)} == present


def test_short_index_key_is_refused() -> None:
    with pytest.raises(ValueError):
        make(key=b"short")


# -- linking ----------------------------------------------------------------------------------

ROSA = {"name": ("Rosa", "Quispe Mamani")}
LINK_CASES = [
    (
        "same document, different names -> one person",
        [
            {"doc": ("dni", "45678912"), "name": ("Rosa", "Quispe")},
            {"doc": ("dni", "045678912"), "name": ("Rosa Elena", "Quispe M.")},
        ],
        [1, 1],
    ),
    (
        "same name and date of birth -> one person",
        [
            {**ROSA, "dob": date(1990, 5, 1)},
            {"name": ("QUISPE MAMANI", "Rosa"), "dob": date(1990, 5, 1)},
        ],
        [1, 1],
    ),
    (
        "same name, two different dates of birth in one year -> two persons",
        [{**ROSA, "dob": date(1990, 5, 1)}, {**ROSA, "dob": date(1990, 7, 9)}],
        [1, 2],
    ),
    (
        "an age-only screening between two dates joins all three (transitive)",
        [
            {**ROSA, "dob": date(1990, 5, 1)},
            {**ROSA, "dob": date(1991, 7, 9)},
            {**ROSA, "year": 1990},
        ],
        [1, 1, 1],
    ),
    (
        "dates arriving after the age-only screening still join it",
        [
            {**ROSA, "year": 1990},
            {**ROSA, "dob": date(1989, 5, 1)},
            {**ROSA, "dob": date(1991, 1, 2)},
        ],
        [1, 1, 1],
    ),
    (
        "a date two years from the age-only screening stays apart",
        [{**ROSA, "year": 1990}, {**ROSA, "dob": date(1992, 5, 1)}],
        [1, 2],
    ),
    (
        "same name and sex, birth years one apart -> one person",
        [{**ROSA, "year": 1990}, {**ROSA, "year": 1991}],
        [1, 1],
    ),
    (
        "same name and sex, birth years two apart -> two persons",
        [{**ROSA, "year": 1990}, {**ROSA, "year": 1992}],
        [1, 2],
    ),
    (
        "same name and year, different sex -> two persons",
        [{**ROSA, "year": 1990, "sex": "F"}, {**ROSA, "year": 1990, "sex": "M"}],
        [1, 2],
    ),
    (
        "a date of birth matches an age-only screening one year off",
        [{**ROSA, "dob": date(1990, 12, 30)}, {**ROSA, "year": 1991}],
        [1, 1],
    ),
    (
        "transitive: document links 1-2, name and birth date link 2-3",
        [
            {"doc": ("dni", "45678912"), "name": ("R.", "Quispe")},
            {"doc": ("dni", "45678912"), **ROSA, "dob": date(1990, 5, 1)},
            {**ROSA, "dob": date(1990, 5, 1)},
        ],
        [1, 1, 1],
    ),
    (
        "years chain 1990-1991-1992 through the middle screening",
        [{**ROSA, "year": 1990}, {**ROSA, "year": 1992}, {**ROSA, "year": 1991}],
        [1, 1, 1],
    ),
    (
        "nothing in common -> separate persons",
        [{"doc": ("dni", "45678912")}, {"doc": ("dni", "45678913")}, {"name": (None, None)}],
        [1, 2, 3],
    ),
    (
        "placeholder document numbers do not merge people",
        [
            {"doc": ("dni", "00000000"), "name": ("Ana", "Rojas")},
            {"doc": ("dni", "00000000"), "name": ("Luis", "Vera")},
        ],
        [1, 2],
    ),
]


@pytest.mark.parametrize(
    ("screenings", "expected"), [c[1:] for c in LINK_CASES], ids=[c[0] for c in LINK_CASES]
)
def test_link(screenings: list[dict[str, object]], expected: list[int]) -> None:
    records = [(i + 1, make(**s)) for i, s in enumerate(screenings)]  # type: ignore[arg-type]
    persons = link(records)
    # Person id = the smallest record id of the component.
    assert [persons[i + 1] for i in range(len(screenings))] == [
        min(j + 1 for j, e in enumerate(expected) if e == x) for x in expected
    ]


def test_person_id_is_the_smallest_record_id_whatever_the_order() -> None:
    p = make(doc=("dni", "45678912"))
    records = [(30, p), (7, p), (12, p), (99, make(doc=("dni", "45678913")))]
    for _ in range(5):
        random.Random(_).shuffle(records)
        assert link(records) == {30: 7, 7: 7, 12: 7, 99: 99}


def test_string_record_ids() -> None:
    p = make(doc=("dni", "45678912"))
    assert link([("b", p), ("a", p)]) == {"a": "a", "b": "a"}


def test_duplicate_record_id_is_an_error() -> None:
    p = make(doc=("dni", "45678912"))
    with pytest.raises(ValueError):
        link([(1, p), (1, p)])


def _pairwise_reference(records: list[tuple[int, Pseudonyms]]) -> dict[int, int]:
    """The rule of reports.md §3 read literally, pair by pair, then components."""
    person = {rid: rid for rid, _ in records}

    def matches(a: Pseudonyms, b: Pseudonyms) -> bool:
        if a.doc is not None and a.doc == b.doc:
            return True
        if a.name_dob is not None and a.name_dob == b.name_dob:
            return True
        return (
            a.name_sex_year is not None
            and a.name_sex_year == b.name_sex_year
            and a.birth_year is not None
            and b.birth_year is not None
            and abs(a.birth_year - b.birth_year) <= 1
            and (a.name_dob is None or b.name_dob is None)
        )

    changed = True
    while changed:  # propagate the smallest id along matches until stable
        changed = False
        for ra, a in records:
            for rb, b in records:
                if matches(a, b) and person[ra] != person[rb]:
                    low = min(person[ra], person[rb])
                    person[ra] = person[rb] = low
                    changed = True
    return person


pseudonym_records = st.lists(
    st.builds(
        Pseudonyms,
        doc=st.sampled_from([None, "d1", "d2"]),
        name_dob=st.sampled_from([None, None, "n1", "n2"]),
        name_sex_year=st.sampled_from([None, "s1", "s2"]),
        birth_year=st.sampled_from([None, 1988, 1989, 1990, 1991, 1992]),
        sex=st.just("F"),
    ),
    max_size=12,
)


@settings(derandomize=True, max_examples=400, deadline=None)
@given(pseudonym_records, st.randoms(use_true_random=False))
def test_link_equals_the_pairwise_rule(people: list[Pseudonyms], rng: random.Random) -> None:
    records = list(enumerate(people, start=1))
    rng.shuffle(records)
    assert link(records) == _pairwise_reference(records)


def test_link_at_scale() -> None:
    """100k screenings of 40k persons, keys drawn the way a register would produce them;
    runs in a second or two (bucketing, no pairwise comparison)."""
    rng = random.Random(3)
    n_persons, records = 40_000, []
    for rid in range(100_000):
        person = rng.randrange(n_persons)
        has_doc = rng.random() < 0.5
        records.append(
            (
                rid,
                Pseudonyms(
                    doc=f"doc{person}" if has_doc else None,
                    name_dob=f"nd{person}" if rng.random() < 0.5 else None,
                    name_sex_year=f"ns{person}",
                    birth_year=1980 + person % 30 + rng.choice((0, 0, 1)),
                    sex="F",
                ),
            )
        )
    persons = link(records)
    assert len(persons) == 100_000
    assert len(set(persons.values())) <= n_persons
    # Every record with the same person key ended up together.
    first_of: dict[int, int] = {}
    for rid, p in records:
        person = int(p.name_sex_year[2:])  # type: ignore[index]
        assert persons[rid] == persons[first_of.setdefault(person, rid)]


def _normalize_name_reference(given: str | None, family: str | None) -> str:
    """The general (per-character Unicode) normalization, without the ASCII fast path."""
    import unicodedata

    text = f"{given or ''} {family or ''}"
    text = "".join("" if ch in linkage._APOSTROPHES else ch for ch in text)
    decomposed = unicodedata.normalize("NFKD", text.upper().translate(linkage._FOLD))
    cleaned = "".join(
        ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
    )
    parts = cleaned.upper().translate(linkage._FOLD).split()
    kept = [p for p in parts if p not in linkage.PARTICLES] or parts
    return " ".join(sorted(kept))


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="latin-1") | st.sampled_from("’ʼŁæœ-.,'"), max_size=30),
    st.text(max_size=30),
)
def test_the_ascii_fast_path_normalizes_like_the_general_one(given_names, family_names):
    assert linkage.normalize_name(given_names, family_names) == _normalize_name_reference(
        given_names, family_names
    )


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="latin-1") | st.sampled_from(" \t\u0301ŁÅ"), max_size=30)
)
def test_index_normalization_ascii_fast_path(value):
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert normalize_for_index(value) == " ".join(stripped.upper().split())
