"""Shelter page: capacity and live occupancy, current residents, discharge."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.core import codes
from caseapp.core.errors import Conflict, ValidationFailed
from caseapp.core.i18n import locale
from caseapp.core.security import Permission, requires
from caseapp.core.time import lima_iso
from caseapp.core.validation import apply_errors
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.referrals import services as referral_services
from caseapp.referrals.forms import AdmitForm, DischargeForm
from caseapp.referrals.views import render_referral, run_action
from caseapp.shelters import services
from caseapp.shelters.models import occupancy_by_service

bp = Blueprint("shelters", __name__, url_prefix="/shelters")
#: Admission starts on the referral's page, so its URL lives under /referrals.
admissions_bp = Blueprint("admissions", __name__)


def _page(form: DischargeForm | None = None, status: int = 200, error: str | None = None) -> Any:
    own = db.session.scalars(
        sa.select(Service).where(
            Service.organization_id == current_user.organization_id,
            Service.service_type.in_(codes.RESIDENTIAL_SERVICES),
        )
    ).all()
    occupancy = occupancy_by_service([s.id for s in own]) if own else {}
    residents = services.residents(current_user)
    form = form or DischargeForm()
    form.reason.choices = codes.get("discharge_reason").choices(locale())
    return render_template(
        "shelters/index.html",
        services=own,
        occupancy=occupancy,
        residents=residents,
        organization=current_user.organization,
        form=form,
        error=error,
    ), status


@bp.get("/")
@requires(Permission.ADMISSION_MANAGE)
def index() -> Any:
    page = _page()
    return page


@bp.post("/admissions/<admission_id>/discharge")
@requires(Permission.ADMISSION_MANAGE)
def discharge(admission_id: str) -> Any:
    form = DischargeForm()
    form.reason.choices = codes.get("discharge_reason").choices(locale())
    if not form.validate_on_submit():
        return _page(form, 422)
    payload: dict[str, Any] = {"reason": form.reason.data}
    if form.discharged_at.data:
        payload["discharged_at"] = lima_iso(form.discharged_at.data)
    if form.note.data:
        payload["note"] = form.note.data
    try:
        services.discharge(current_user, admission_id, payload)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(form, 422)
    except Conflict as exc:
        db.session.rollback()
        return _page(form, 409, error=exc.message)
    flash(_("Egreso registrado."), "success")
    return redirect(url_for("shelters.index"))


@admissions_bp.post("/referrals/<referral_id>/admit")
@requires(Permission.ADMISSION_MANAGE)
def admit(referral_id: str) -> Any:
    """Admit from the accepted referral's page; errors show on that page."""
    form = AdmitForm(prefix="admit")
    if not form.validate_on_submit():
        referral, side = referral_services.find_referral(current_user, referral_id)
        return render_referral(referral, side, 422, {"admit_form": form})
    payload: dict[str, Any] = {"referral_id": referral_id}
    if form.admitted_at.data:
        payload["admitted_at"] = lima_iso(form.admitted_at.data)
    if form.bed.data:
        payload["bed"] = form.bed.data
    if form.planned_stay_days.data:
        payload["planned_stay_days"] = form.planned_stay_days.data
    failed = run_action(
        referral_id, lambda: services.admit(current_user, payload), form, "admit_form"
    )
    if failed:
        return failed
    flash(_("Ingreso registrado."), "success")
    return redirect(url_for("shelters.index"))
