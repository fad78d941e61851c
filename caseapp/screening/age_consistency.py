"""Age and date of birth must agree (domain.md §2): more than a year apart is a 422.

Pure and separate from the request parser so it can move with the validation (the
parser's internals are being replaced); :func:`caseapp.screening.schema.parse_screening`
calls :func:`age_dob_conflicts` in one place and reports what it returns.
"""

from __future__ import annotations

from datetime import date

#: A recorded age may be off by one from the date of birth (estimated ages, birthdays
#: around the identification date); more than that is a contradiction to correct.
TOLERANCE_YEARS = 1
#: The start of every message, which the page recognises to word it for people.
MESSAGE_PREFIX = "disagrees with"


def age_on(identified_on: date, date_of_birth: date) -> int:
    """Completed years on ``identified_on`` (a 29 February birthday counts from 1 March)."""
    before_birthday = (identified_on.month, identified_on.day) < (
        date_of_birth.month,
        date_of_birth.day,
    )
    return identified_on.year - date_of_birth.year - int(before_birthday)


def age_dob_conflicts(
    date_of_birth: date | None, age_years: int | None, identified_on: date
) -> dict[str, str]:
    """``{field path: message}`` for both fields when they disagree by more than a year
    on the identification date; empty when they agree or one of them is missing."""
    if date_of_birth is None or age_years is None or date_of_birth > identified_on:
        return {}
    by_dob = age_on(identified_on, date_of_birth)
    if abs(by_dob - age_years) <= TOLERANCE_YEARS:
        return {}
    return {
        "person.date_of_birth": (
            f"{MESSAGE_PREFIX} person.age_years ({age_years}): this date of birth gives "
            f"{by_dob} years on the identification date {identified_on.isoformat()}; "
            "correct one of them"
        ),
        "person.age_years": (
            f"{MESSAGE_PREFIX} person.date_of_birth ({date_of_birth.isoformat()}), which "
            f"gives {by_dob} years on the identification date {identified_on.isoformat()}; "
            "correct one of them"
        ),
    }
