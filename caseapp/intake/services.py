"""The intake workflow, in one transaction: screening a person records the screening
(`screening`), plans its referrals (`referrals`) and writes its statistics fact (`facts`).

Every function takes an explicit actor and never commits: the request (or CLI command)
commits once. Pages and the API call these functions, never the three features' internals.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from caseapp.accounts.models import User
from caseapp.core import idempotency
from caseapp.extensions import db
from caseapp.facts import services as facts
from caseapp.referrals import services as referrals
from caseapp.screening import services as screening_services
from caseapp.screening.models import Case, Screening
from caseapp.screening.schema import ScreeningInput, parse_screening


def screen_person(actor: User, data: ScreeningInput) -> Screening:
    """Screen a person: determination and record, referral plan, statistics fact.

    Linking sees the facts committed before this one; two screenings of one person
    committed at the same moment are joined by the next `flask reports relink` (the
    reference, ADR 0006).
    """
    screening = screening_services.record_screening(actor, data)
    referrals.plan_for_screening(actor, screening, data.consent)
    facts.record(screening)
    return screening


def record_historical(actor: User, data: ScreeningInput, *, closed: bool = False) -> Screening:
    """A screening imported from an existing register: recorded and counted like any
    other (determination, statistics fact, linkage), but it plans no referrals: a case
    identified years ago is no occasion to send a person to a UPE today (issue 17).
    ``closed``: the source had closed the case."""
    screening = screening_services.record_screening(actor, data)
    facts.record(screening)
    if closed:
        screening_services.close_imported(actor, screening.case)
    return screening


def screen_once(
    actor: User, key: str | None, endpoint: str, payload: Any
) -> tuple[Screening, bool]:
    """:func:`screen_person` under an idempotency key (api.md §3), for the page and the API.

    Returns the screening and whether it is a replay of an earlier request with the same
    key (then it is read, and audited, like any other read of it). The key is claimed (a
    unique row, flushed in a savepoint) before the screening is made: a concurrent twin
    with the same key waits on that row and, once the first commits, replays its result
    instead of creating a second screening.
    """
    replay = idempotency.lookup(actor.id, key, endpoint, payload)
    if replay is not None:
        return _replayed(actor, replay[1]), True
    data = parse_screening(payload)
    if key is not None:
        claim = idempotency.claim(actor.id, key, endpoint, payload)
        try:
            with db.session.begin_nested():
                db.session.add(claim)
        except IntegrityError:
            replay = idempotency.lookup(actor.id, key, endpoint, payload)
            if replay is None:
                raise
            return _replayed(actor, replay[1]), True
    screening = screen_person(actor, data)
    if key is not None:
        # Only the id is kept for replays: the document itself holds sensitive data.
        idempotency.settle(claim, 201, {"id": screening.uuid})
    return screening, False


def _replayed(actor: User, stored: Any) -> Screening:
    return screening_services.get_screening(actor, str(stored["id"]))


def override_determination(
    actor: User, screening_uuid: str, status: Any, justification: Any
) -> Screening:
    """A supervisor's different status; the statistics fact follows it."""
    screening = screening_services.override_determination(
        actor, screening_uuid, status, justification
    )
    facts.update_status(screening)
    return screening


def update_case(actor: User, case_uuid: str, payload: Any) -> Case:
    """Edit identity and contact data or close/reopen a case (optimistic locking).

    Closing cancels the case's open referrals; a corrected name or document refreshes
    the keyed linkage pseudonyms of its statistics facts.
    """
    case, changed = screening_services.update_case(actor, case_uuid, payload)
    if "status" in changed and case.status == "closed":
        referrals.cancel_open_for_closed_case(actor, case)
    if {"person.given_names", "person.family_names", "person.document"} & set(changed):
        facts.refresh_keys(list(case.screenings))
    return case
