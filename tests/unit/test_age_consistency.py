"""Issue 14 item 3: age and date of birth that disagree by more than a year (domain.md §2)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from caseapp.core.errors import ValidationFailed
from caseapp.screening.schema import parse_screening
from tests.integration.test_screening_api import ROSA

IDENTIFIED_ON = date(2026, 3, 14)  # ROSA's identification date (Lima)


def _body(dob: str | None, age: int | None) -> dict:
    body = copy.deepcopy(ROSA)
    body["person"]["date_of_birth"] = dob
    body["person"]["age_years"] = age
    return body


def test_date_of_birth_2000_with_age_12_is_refused_naming_both_fields() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_screening(_body("2000-01-01", 12))
    fields = exc.value.fields
    assert set(fields) == {"person.date_of_birth", "person.age_years"}
    assert "26" in fields["person.date_of_birth"][0] and "12" in fields["person.date_of_birth"][0]
    assert "person.age_years" in fields["person.date_of_birth"][0]
    assert "person.date_of_birth" in fields["person.age_years"][0]


@pytest.mark.parametrize(
    ("dob", "age"),
    [
        ("2010-03-14", 16),  # exact: 16th birthday on the identification date
        ("2010-03-15", 16),  # one day short of 16: age 15, recorded 16 (within a year)
        ("2010-03-14", 15),  # 16, recorded 15
        ("2010-03-14", 17),  # 16, recorded 17
        ("2010-03-14", None),  # no age recorded: nothing to compare
        (None, 16),
    ],
)
def test_age_and_date_of_birth_within_one_year_are_accepted(
    dob: str | None, age: int | None
) -> None:
    parse_screening(_body(dob, age))


@pytest.mark.parametrize(
    ("dob", "age"), [("2010-03-14", 18), ("2010-03-14", 14), ("2012-01-01", 16)]
)
def test_age_and_date_of_birth_more_than_one_year_apart_are_refused(dob: str, age: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_screening(_body(dob, age))
    assert {"person.date_of_birth", "person.age_years"} <= set(exc.value.fields)
