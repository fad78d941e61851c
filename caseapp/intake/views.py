"""Screening and case pages. Thin: parse the form, call one service, commit once, render.

The pages use the same validator (:func:`parse_screening`), services and documents as the
JSON API, so a screening typed into the form and one posted to ``/api/v1/screenings`` get
the same determination, reasons and rule version.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from caseapp.audit.labels import action_label
from caseapp.core.api import MAX_PAGE
from caseapp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caseapp.core.i18n import locale
from caseapp.core.security import Permission, has_permission, requires
from caseapp.core.time import lima_text
from caseapp.core.validation import apply_errors
from caseapp.extensions import db
from caseapp.intake import search, services
from caseapp.intake.documents import case_document, screening_document
from caseapp.intake.forms import (
    CaseEditForm,
    CaseFilterForm,
    OverrideForm,
    ScreeningForm,
    now_in_lima,
    page_errors,
)
from caseapp.screening import services as screening_services

bp = Blueprint("screening", __name__)

IDEMPOTENCY_ENDPOINT = "screenings-web"
PER_PAGE = 25


def _locale() -> str:
    return "en" if locale().startswith("en") else "es"


def _actor() -> Any:
    return current_user._get_current_object()


# -- texts the templates share -------------------------------------------------------------

STATUS_TEXT = {
    "indicated": _l("Indicios de trata: presunta víctima"),
    "possible": _l("Posible trata: requiere evaluación"),
    "not_indicated": _l("Sin indicios suficientes"),
}

ELEMENT_TEXT = {
    "act": _l("Acto: no se registró ninguna acción (captar, trasladar, acoger, retener…)"),
    "means": _l("Medio: no se registró cómo lo lograron (engaño, amenaza, violencia…)"),
    "purpose": _l("Finalidad: no se registró para qué (explotación sexual, laboral…)"),
}

TAG_TEXT = {
    "child": _l("Niña, niño o adolescente"),
    "adult": _l("Persona adulta"),
    "age_unknown": _l("Edad desconocida"),
    "female": _l("Sexo femenino"),
    "male": _l("Sexo masculino"),
    "lgbtqi": _l("LGBTIQ+"),
    "foreign": _l("Extranjera o extranjero"),
    "indigenous_language": _l("Habla una lengua indígena"),
    "unaccompanied": _l("Sin acompañante adulto"),
    "asylum_seeker": _l("Solicitante de refugio o refugiada/o"),
}


def lima_time(value: Any) -> str:
    """A UTC datetime or an ISO string, as day/month/year hour:minute in Lima."""
    return lima_text(value, empty="—")


def in_locale(item: Any) -> str:
    """The Spanish or English text of a reason, alert or gap ({code, es, en})."""
    if not isinstance(item, dict):
        return str(item)
    return str(item.get(_locale()) or item.get("es") or item.get("code") or "")


def show(value: Any) -> str:
    """Any value of a document section another feature adds (consent…), readable."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Sí") if value else _("No")
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        if "es" in value and "en" in value:
            return in_locale(value)
        return "; ".join(f"{k}: {show(v)}" for k, v in value.items())
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        return lima_time(value)
    return str(value)


def next_steps(status: str, tags: list[str]) -> list[str]:
    """What the frontline worker should do now, in plain words (domain.md §3–§4, the
    Protocolo Intersectorial). ``status`` is the effective one (a supervisor's decision
    when there is one)."""
    child = "child" in tags
    steps: list[str] = []
    if child and status in ("indicated", "possible"):
        steps += [
            _(
                "Informe ahora a la Unidad de Protección Especial (UPE) del MIMP y a la "
                "Fiscalía especializada en trata (FISTRAP). Es obligatorio y no necesita "
                "consentimiento."
            ),
            _(
                "Nunca deje a una niña, niño o adolescente en la comisaría: llévelo a un "
                "centro de acogida abierto las 24 horas o entréguelo a la UPE."
            ),
            _(
                "No le pregunte más de lo necesario: la entrevista única la hace la Fiscalía, "
                "para no hacerle revivir lo ocurrido."
            ),
        ]
    elif status == "indicated":
        steps += [
            _(
                "Trate a la persona como presunta víctima de trata: no la detenga ni la "
                "sancione por lo que hizo a causa de la trata (por ejemplo, estar sin "
                "documentos o trabajar sin permiso)."
            ),
            _(
                "Explíquele sus derechos y los servicios propuestos abajo, y pregúntele si "
                "acepta cada derivación. La ayuda no depende de que denuncie o declare."
            ),
            _("Comunique el caso a la Fiscalía especializada en trata (FISTRAP)."),
        ]
    if status == "possible":
        steps += [
            _(
                "Faltan datos para confirmar los indicios de trata. Converse con la persona "
                "en un lugar seguro y privado, con intérprete si lo necesita, y averigüe lo "
                "que falta (vea «Elementos que faltan»)."
            ),
            _(
                "Consulte con su supervisora o supervisor, o con la Fiscalía especializada en "
                "trata (FISTRAP)."
            ),
        ]
    if status == "not_indicated":
        steps.append(
            _(
                "Con los datos registrados no hay indicios suficientes de trata. Si la persona "
                "necesita ayuda, oriéntela a los servicios que correspondan (CEM, salud, "
                "defensa pública)."
            )
        )
        if child:
            steps.append(
                _(
                    "Si la niña, niño o adolescente está en riesgo o sin protección familiar, "
                    "informe a la UPE o a la DEMUNA."
                )
            )
    if "age_unknown" in tags:
        steps.append(
            _(
                "Verifique la edad. Mientras tanto, si parece menor de 18 años, trátela como "
                "niña, niño o adolescente."
            )
        )
    if status != "indicated":
        steps.append(_("Si obtiene nuevos datos, registre una nueva evaluación."))
    steps.append(
        _(
            "Este resultado orienta su decisión; no es una decisión legal. Si no está de "
            "acuerdo, consulte con su supervisora o supervisor."
        )
    )
    return steps


def optional_url(endpoint: str, **values: Any) -> str | None:
    """A link to another feature's page when that feature is installed, else None."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "status_text": lambda code: STATUS_TEXT.get(code, code),
        "element_text": lambda code: ELEMENT_TEXT.get(code, code),
        "tag_text": lambda code: TAG_TEXT.get(code, code),
        "action_text": action_label,
        "lima_time": lima_time,
        "in_locale": in_locale,
        "next_steps": next_steps,
        "show": show,
        "optional_url": optional_url,
    }


@bp.errorhandler(NotFound)
@bp.errorhandler(Forbidden)
def _not_found_or_forbidden(exc: NotFound | Forbidden) -> Any:
    """The page's own words, in the UI language, rather than the service's English message;
    another organization's case is a plain 404 that reveals nothing."""
    db.session.rollback()
    return render_template("errors/error.html", status=exc.status, title=None, message=None), (
        exc.status
    )


# -- new screening ------------------------------------------------------------------------


def _render_new(form: ScreeningForm, status: int = 200) -> Any:
    return render_template("screening/new.html", form=form), status


@bp.route("/screenings/new", methods=["GET", "POST"])
@requires(Permission.CASE_CREATE)
def new() -> Any:
    actor = _actor()
    form = ScreeningForm(locale=_locale())
    if request.method == "GET":
        form.identified_at.data = now_in_lima()
        form.region.data = actor.organization.region_code
        form.submission_id.data = secrets.token_urlsafe(24)
        return _render_new(form)

    # CSRF is checked for every POST by CSRFProtect; everything else by the contract.
    key = (form.submission_id.data or "").strip() or None
    try:
        screening, _replayed = services.screen_once(
            actor, key, IDEMPOTENCY_ENDPOINT, form.to_payload()
        )
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, page_errors(exc))
        return _render_new(form, 422)
    except Conflict as exc:
        if exc.code != "idempotency_key_reused":
            raise
        # Back button after a successful submission, then changed data: a new screening
        # needs a new token; say so instead of silently creating or refusing.
        db.session.rollback()
        form.submission_id.data = secrets.token_urlsafe(24)
        form.form_errors.append(
            _(
                "Este formulario ya se envió y se registró una evaluación. Si quiere "
                "registrar otra evaluación con estos datos, revíselos y envíelo de nuevo."
            )
        )
        return _render_new(form, 409)
    return redirect(url_for("screening.result", uuid=screening.uuid), 303)


# -- result --------------------------------------------------------------------------------


def _render_result(
    screening: Any, override_form: OverrideForm | None = None, status: int = 200
) -> Any:
    document = screening_document(screening)
    if override_form is None:
        override_form = OverrideForm(locale=_locale())
        if screening.override_status:
            override_form.status.data = screening.override_status
    html = render_template(
        "screening/result.html",
        doc=document,
        screening=screening,
        person=screening.case.person,
        override_form=override_form,
        can_override=has_permission(current_user.role, Permission.DETERMINATION_OVERRIDE),
    )
    return html, status


@bp.get("/screenings/<uuid>")
@requires(Permission.CASE_READ)
def result(uuid: str) -> Any:
    return _render_result(screening_services.get_screening(_actor(), uuid))


@bp.route("/screenings/<uuid>/override", methods=["GET", "POST"])
@requires(Permission.DETERMINATION_OVERRIDE)
def override(uuid: str) -> Any:
    if request.method == "GET":  # the form lives on the result page
        return redirect(url_for("screening.result", uuid=uuid, _anchor="override"))
    form = OverrideForm(locale=_locale())
    try:
        services.override_determination(
            _actor(), uuid, form.status.data or None, form.justification.data or ""
        )
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, page_errors(exc))
        return _render_result(screening_services.get_screening(_actor(), uuid), form, 422)
    flash(
        _("Se registró la decisión de supervisión. La orientación original se conserva."), "success"
    )
    return redirect(url_for("screening.result", uuid=uuid), 303)


# -- cases -----------------------------------------------------------------------------------


def _page_number(value: str | None) -> int:
    """A page number from the query string; nonsense means the first page, and a huge one
    the last possible (an unbounded OFFSET was a 500 from the database driver)."""
    try:
        return min(MAX_PAGE, max(1, int(value or 1)))
    except ValueError:
        return 1


@bp.route("/cases", methods=["GET", "POST"])
@requires(Permission.CASE_READ)
def cases() -> Any:
    if request.method == "POST":  # the search form: no name or document number in URLs
        search.remember(request.form)
        return redirect(url_for("screening.cases", search=1), 303)
    stored = request.args.get("search") == "1"
    source = MultiDict(search.recall()) if stored else request.args
    form = CaseFilterForm(source, locale=_locale())
    form.set_determination_labels(STATUS_TEXT)
    args = {k: v for k, v in source.items() if k not in ("page", "search")}
    page = _page_number(request.args.get("page"))
    try:
        filters = screening_services.parse_filters(args)
    except ValidationFailed as exc:
        apply_errors(form, page_errors(exc))
        html = render_template(
            "screening/cases.html", form=form, rows=[], total=0, page=1, pages=1, args={}
        )
        return html, 422
    rows, total = screening_services.list_cases(_actor(), filters, page, PER_PAGE)
    html = render_template(
        "screening/cases.html",
        form=form,
        rows=rows,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PER_PAGE)),
        args={"search": "1"} if stored else {k: v for k, v in args.items() if v},
    )
    return html


@bp.get("/cases/<uuid>")
@requires(Permission.CASE_READ)
def case(uuid: str) -> Any:
    found = screening_services.get_case(_actor(), uuid)
    document = case_document(found, screening_services.case_history(found))
    html = render_template("screening/case.html", doc=document, case=found)
    return html


def _render_edit(case_uuid: str, form: CaseEditForm | None, status: int, notice: str = "") -> Any:
    """Load the case (404 for another organization) and show the edit form; ``form=None``
    fills it with the data as it is now."""
    found = screening_services.get_case(_actor(), case_uuid)
    document = case_document(found, [])
    if form is None:
        form = CaseEditForm(locale=_locale(), formdata=None)
        form.load(document)
    html = render_template(
        "screening/edit_case.html",
        form=form,
        doc=document,
        can_close=has_permission(current_user.role, Permission.CASE_CLOSE),
        notice=notice,
    )
    return html, status


@bp.route("/cases/<uuid>/edit", methods=["GET", "POST"])
@requires(Permission.CASE_UPDATE)
def edit_case(uuid: str) -> Any:
    if request.method == "GET":
        return _render_edit(uuid, None, 200)
    form = CaseEditForm(locale=_locale())
    can_close = has_permission(current_user.role, Permission.CASE_CLOSE)
    try:
        services.update_case(_actor(), uuid, form.to_payload(with_status=can_close))
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, page_errors(exc))
        return _render_edit(uuid, form, 422)
    except (Conflict, StaleDataError) as exc:
        if isinstance(exc, Conflict) and exc.code != "version_conflict":
            raise
        db.session.rollback()
        notice = _(
            "Otra persona modificó este caso mientras usted lo editaba. Abajo están los "
            "datos actuales: revíselos y vuelva a hacer sus cambios."
        )
        return _render_edit(uuid, None, 409, notice)
    flash(_("Cambios guardados."), "success")
    return redirect(url_for("screening.case", uuid=uuid), 303)
