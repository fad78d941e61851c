"""Printable referral letter (print-ready HTML, Spanish) with only the consented fields."""

from __future__ import annotations

from flask import render_template

from caseapp.core.db import utcnow
from caseapp.referrals.documents import receiving_view
from caseapp.referrals.models import Referral
from caseapp.referrals.services import current_consent


def render_letter(referral: Referral) -> str:
    """The letter shows the limited referral view (domain.md §4), never the screening.

    It is always in Spanish: it goes to another institution's file."""
    view = receiving_view(referral)
    return render_template(
        "referrals/letter.html",
        referral=referral,
        view=view,
        consent=current_consent(referral.case),
        today=utcnow(),
    )
