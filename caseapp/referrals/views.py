"""Referral pages: outgoing and incoming lists, the referral page with its actions,
consent, escalations and the printable letter. Thin: parse, one service, commit, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.core import codes
from caseapp.core.errors import Conflict, Forbidden, ValidationFailed
from caseapp.core.i18n import locale
from caseapp.core.security import Permission, has_permission, requires
from caseapp.core.validation import apply_errors
from caseapp.extensions import db
from caseapp.referrals import letters, rules, services
from caseapp.referrals.documents import consent_json, receiving_view, referral_document
from caseapp.referrals.forms import (
    ActionForm,
    AdmitForm,
    AssignForm,
    CancelForm,
    ConsentForm,
    DeclineForm,
    SendForm,
)


def _no_admission(_referral_id: int) -> Any:
    return None


#: The admission of a referral, if any. Admissions belong to `shelters`, which builds on
#: referrals; the app wires the real lookup in at start-up (caseapp/app.py).
admission_of: Callable[[int], Any] = _no_admission

bp = Blueprint("referrals", __name__)


def _locale() -> str:
    return locale()


@bp.get("/referrals/incoming")
@requires(Permission.REFERRAL_RECEIVE)
def incoming() -> Any:
    filters = services.ReferralFilters(direction="incoming")
    rows, total = services.list_referrals(current_user, filters, 1, 100)
    items = [receiving_view(r) for r in rows]
    return render_template("referrals/incoming.html", items=items, total=total)


@bp.get("/referrals/outgoing")
@requires(Permission.CASE_READ)
def outgoing() -> Any:
    overdue = request.args.get("overdue") == "1"
    filters = services.ReferralFilters(direction="outgoing", overdue=overdue)
    rows, total = services.list_referrals(current_user, filters, 1, 100)
    items = [(referral_document(r), r.case) for r in rows]
    return render_template("referrals/outgoing.html", items=items, total=total, overdue=overdue)


@bp.get("/referrals/escalations")
@requires(Permission.ESCALATION_INBOX)
def escalations() -> Any:
    rows = services.escalation_inbox(current_user)
    items = [referral_document(r) for r in rows]
    return render_template("referrals/escalations.html", items=items)


def _cancel_form() -> CancelForm:
    form = CancelForm(prefix="cancel")
    form.reason.choices = codes.get("cancel_reason").choices(_locale())
    return form


def _forms(referral: Any, side: str) -> dict[str, Any]:
    assign = AssignForm(prefix="assign")
    if side == "referring":
        assign.provider.choices = [
            (p.code, f"{p.name} ({p.code})") for p in services.providers_for(referral)
        ]
    decline = DeclineForm(prefix="decline")
    decline.reason.choices = codes.get("decline_reason").choices(_locale())
    return {
        "send_form": SendForm(prefix="send"),
        "assign_form": assign,
        "cancel_form": _cancel_form(),
        "decline_form": decline,
        "action_form": ActionForm(prefix="action"),
        "admit_form": AdmitForm(prefix="admit"),
    }


def render_referral(
    referral: Any,
    side: str,
    status: int = 200,
    forms: dict[str, Any] | None = None,
    error: str | None = None,
) -> Any:
    merged = _forms(referral, side)
    merged.update(forms or {})
    admission = None
    if side == "receiving":
        doc = receiving_view(referral)
        admission = admission_of(referral.id)
    else:
        doc = referral_document(referral, history=True)
    return render_template(
        "referrals/detail.html",
        referral=referral,
        doc=doc,
        side=side,
        error=error,
        admission=admission,
        can_override=has_permission(current_user.role, Permission.CONSENT_OVERRIDE),
        can_receive=has_permission(current_user.role, Permission.REFERRAL_RECEIVE),
        can_admit=has_permission(current_user.role, Permission.ADMISSION_MANAGE),
        residential=referral.service_type in codes.RESIDENTIAL_SERVICES,
        **merged,
    ), status


@bp.get("/referrals/<referral_id>")
@requires(Permission.CASE_READ)
def detail(referral_id: str) -> Any:
    referral, side = services.get_referral(current_user, referral_id)
    page = render_referral(referral, side)
    return page


def run_action(referral_id: str, action: Any, form: Any = None, form_key: str = "") -> Any:
    """Run one lifecycle action; on a refusal show the page again with the reason."""
    try:
        action()
    except ValidationFailed as exc:
        db.session.rollback()
        referral, side = services.find_referral(current_user, referral_id)
        if form is not None:
            apply_errors(form, exc)
        return render_referral(referral, side, 422, {form_key: form} if form is not None else None)
    except (Conflict, Forbidden) as exc:
        db.session.rollback()
        referral, side = services.find_referral(current_user, referral_id)
        return render_referral(referral, side, exc.status, error=_conflict_message(exc))
    return None


def _conflict_message(exc: Conflict | Forbidden) -> str:
    messages = {
        "consent_required": _(
            "Falta el consentimiento que cubra esta derivación. Regístrelo "
            "primero; en una emergencia, la supervisión puede enviarla con "
            "una justificación."
        ),
        "invalid_state": _("Esta acción no es posible en el estado actual de la derivación."),
        "no_provider": _("Primero elija un servicio."),
        "shelter_full": _("El albergue está lleno: no hay plazas libres."),
        "not_eligible": _(
            "La persona no cumple los criterios de este albergue: %(m)s", m=exc.message
        ),
        "already_admitted": _("Esta derivación ya tiene un ingreso."),
    }
    return messages.get(exc.code, exc.message)


@bp.post("/referrals/<referral_id>/send")
@requires(Permission.REFERRAL_SEND)
def send(referral_id: str) -> Any:
    form = SendForm(prefix="send")
    if not form.validate_on_submit():
        referral, side = services.find_referral(current_user, referral_id)
        return render_referral(referral, side, 422, {"send_form": form})
    justification = form.consent_override_justification.data or None
    failed = run_action(
        referral_id,
        lambda: services.send(
            current_user,
            referral_id,
            override_justification=justification,
            risk_notes=form.risk_notes.data or None,
        ),
        form,
        "send_form",
    )
    if failed:
        return failed
    flash(_("Derivación enviada."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


@bp.post("/referrals/<referral_id>/assign")
@requires(Permission.REFERRAL_SEND)
def assign(referral_id: str) -> Any:
    form = AssignForm(prefix="assign")
    provider = form.provider.data
    failed = run_action(
        referral_id,
        lambda: services.assign(current_user, referral_id, provider),
        form,
        "assign_form",
    )
    if failed:
        return failed
    flash(_("Servicio asignado."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


@bp.post("/referrals/<referral_id>/cancel")
@requires(Permission.REFERRAL_SEND)
def cancel(referral_id: str) -> Any:
    form = _cancel_form()
    if not form.validate_on_submit():
        referral, side = services.find_referral(current_user, referral_id)
        return render_referral(referral, side, 422, {"cancel_form": form})
    failed = run_action(
        referral_id,
        lambda: services.cancel(
            current_user, referral_id, form.reason.data, form.note.data or None
        ),
        form,
        "cancel_form",
    )
    if failed:
        return failed
    flash(_("Derivación anulada."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


@bp.post("/referrals/<referral_id>/accept")
@requires(Permission.REFERRAL_RECEIVE)
def accept(referral_id: str) -> Any:
    if not ActionForm(prefix="action").validate_on_submit():
        abort(400)
    failed = run_action(referral_id, lambda: services.accept(current_user, referral_id))
    if failed:
        return failed
    flash(_("Derivación aceptada: su organización asume la atención."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


@bp.post("/referrals/<referral_id>/complete")
@requires(Permission.REFERRAL_RECEIVE)
def complete(referral_id: str) -> Any:
    if not ActionForm(prefix="action").validate_on_submit():
        abort(400)
    failed = run_action(referral_id, lambda: services.complete(current_user, referral_id))
    if failed:
        return failed
    flash(_("Atención completada."), "success")
    return redirect(url_for("referrals.detail", referral_id=referral_id))


@bp.post("/referrals/<referral_id>/decline")
@requires(Permission.REFERRAL_RECEIVE)
def decline(referral_id: str) -> Any:
    form = DeclineForm(prefix="decline")
    form.reason.choices = codes.get("decline_reason").choices(_locale())
    if not form.validate_on_submit():
        referral, side = services.find_referral(current_user, referral_id)
        return render_referral(referral, side, 422, {"decline_form": form})
    failed = run_action(
        referral_id,
        lambda: services.decline(
            current_user, referral_id, form.reason.data, form.note.data or None
        ),
        form,
        "decline_form",
    )
    if failed:
        return failed
    flash(
        _(
            "Derivación rechazada. Ruta propuso el siguiente servicio disponible a quien "
            "derivó, o registró la brecha."
        ),
        "info",
    )
    return redirect(url_for("referrals.incoming"))


@bp.get("/referrals/<referral_id>/letter")
@requires(Permission.CASE_READ)
def letter(referral_id: str) -> Any:
    referral, _side = services.get_referral(current_user, referral_id)
    html = letters.render_letter(referral)
    return Response(html, mimetype="text/html")


@bp.route("/cases/<case_id>/consent", methods=["GET", "POST"])
@requires(Permission.CONSENT_RECORD)
def consent(case_id: str) -> Any:
    from caseapp.screening import services as screening

    case = screening.get_case(current_user, case_id)
    referrals = services.case_referrals(case)
    form = ConsentForm()
    tags = case.screenings[-1].tags if case.screenings else []
    forbidden = rules.forbidden_consent_scope(tags)  # E2: never the consulate for asylum
    offered = ({r.service_type for r in referrals} | {"consulate"}) - forbidden
    form.scope.choices = sorted((t, codes.get("service_type").label(t, _locale())) for t in offered)
    form.given_by.choices = codes.get("consent_given_by").choices(_locale())
    form.method.choices = codes.get("consent_method").choices(_locale())
    status = 200
    if form.validate_on_submit():
        given = form.given.data == "yes"
        scope = ["all"] if form.scope_all.data == "all" else list(form.scope.data or [])
        payload = {"given": given, "given_by": form.given_by.data, "method": form.method.data}
        if given:
            payload["scope"] = scope
        try:
            if given and not scope:
                raise ValidationFailed({"scope": [_("Marque al menos un servicio.")]})
            recorded = services.record_consent(current_user, case_id, payload)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
            status = 422
        else:
            flash(
                _("Consentimiento retirado: se anularon las derivaciones pendientes.")
                if recorded.is_withdrawal
                else _("Consentimiento registrado."),
                "success",
            )
            return redirect(url_for("screening.case", uuid=case_id))
    elif request.method == "POST":
        status = 422
    current = consent_json(services.current_consent(case))
    return render_template(
        "referrals/consent.html", form=form, case=case, current=current, referrals=referrals
    ), status
