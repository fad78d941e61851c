"""The import page for supervisors (docs/imports.md): choose a profile and a file, see the
dry run's counts and problems, confirm, see the batch (provenance, the imported cases) and
roll it back. No JavaScript: each step is a form and the next page shows its counts.

Thin: the services check, import, list and roll back (and audit); the page's request is
the one commit point (a refused step answers 4xx and saves nothing).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from caseapp.core.errors import Conflict
from caseapp.core.security import Permission, has_permission, requires
from caseapp.extensions import db
from caseapp.imports import messages, profiles, services
from caseapp.imports.forms import ConfirmForm, RollbackForm, UploadForm
from caseapp.imports.models import ImportBatch
from caseapp.imports.rules import Problem, Profile, ProfileError

bp = Blueprint("imports", __name__, url_prefix="/imports")

#: problems shown on the page; the CSV download has them all
PROBLEMS_SHOWN = 200
#: imported cases listed on the batch page
RECORDS_SHOWN = 50
#: problems of an unreadable file named in the error summary
FILE_PROBLEMS_SHOWN = 10


def _actor() -> Any:
    return current_user._get_current_object()


def _shipped() -> list[Profile]:
    """The profiles that load (a broken one is left out: `flask import profiles` names it)."""
    found = []
    for name in profiles.names():
        try:
            found.append(profiles.load(name))
        except ProfileError:
            continue
    return found


def _profile(name: str) -> Profile | None:
    try:
        return profiles.load(name)
    except (profiles.UnknownProfile, ProfileError):
        return None


def _limit_mb() -> int:
    return max(1, int(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024))


def _file_name(name: str) -> str:
    """The uploaded file's own name, without a client's path and control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", base).strip()[:255]


def _problems(report: str | None, limit: int | None = None) -> list[Problem]:
    """The stored report's problems, their messages in the reader's language."""
    if not report:
        return []
    reader = csv.DictReader(io.StringIO(report))
    out: list[Problem] = []
    for row in reader:
        if limit is not None and len(out) >= limit:
            break
        message = messages.localized(row["message"])
        out.append(Problem(int(row["line"] or 0), row["column"], row["value"], message))
    return out


def _file_problem_text(problem: Problem) -> str:
    if problem.column:
        return _(
            "Falta la columna «%(column)s» (fila de encabezado %(line)d).",
            column=problem.column,
            line=problem.line,
        )
    return _("No se puede leer el archivo: %(reason)s", reason=problem.message)


def _render_index(
    form: UploadForm, shipped: list[Profile], status: int = 200, *, with_batches: bool = True
) -> Any:
    recent = services.list_batches(_actor(), limit=5) if with_batches else []
    return render_template(
        "imports/index.html",
        form=form,
        profiles=shipped,
        recent=recent,
        limit_mb=_limit_mb(),
        max_rows=int(current_app.config.get("IMPORT_PAGE_MAX_ROWS") or 0),
    ), status


def _upload_form(shipped: list[Profile], *, read_request: bool = True) -> UploadForm:
    form = UploadForm() if read_request else UploadForm(formdata=None)
    form.profile.choices = [("", _("Elija el registro…"))] + [(p.name, p.title) for p in shipped]
    return form


@bp.route("/", methods=["GET", "POST"])
@requires(Permission.CASE_IMPORT)
def index() -> Any:
    """Step 1: profile + file → a dry run kept as a ``checked`` batch (step 2 is its page)."""
    shipped = _shipped()
    form = _upload_form(shipped)
    if request.method == "GET":
        return _render_index(form, shipped)
    if not form.validate_on_submit():
        return _render_index(form, shipped, 422)
    profile = _profile(form.profile.data)
    if profile is None:  # removed between the page and the post
        form.profile.errors.append(_("Ese perfil no existe; elija uno de la lista."))
        return _render_index(form, shipped, 422)
    upload = form.file.data
    data = upload.read()
    if not data:
        form.file.errors.append(_("El archivo está vacío."))
        return _render_index(form, shipped, 422)
    actor = _actor()
    batch = services.check_upload(
        actor, actor.organization, profile, _file_name(upload.filename), data
    )
    max_rows = int(current_app.config.get("IMPORT_PAGE_MAX_ROWS") or 0)
    if max_rows and batch.rows_total > max_rows:
        # the import runs inside the request: a register this large goes through the CLI
        form.file.errors.append(
            _(
                "El archivo tiene %(rows)d filas; desde esta página se importan hasta "
                "%(max)d. Divídalo o impórtelo con «flask import run» en el servidor.",
                rows=batch.rows_total,
                max=max_rows,
            )
        )
        return _render_index(form, shipped, 422)
    if batch.upload is None:
        # unreadable, wrong encoding or columns missing: no row could be read; keep nothing
        for problem in _problems(batch.report, FILE_PROBLEMS_SHOWN):
            form.file.errors.append(_file_problem_text(problem))
        if batch.problems_count > FILE_PROBLEMS_SHOWN:
            form.file.errors.append(
                _("… y %(n)d problemas más.", n=batch.problems_count - FILE_PROBLEMS_SHOWN)
            )
        return _render_index(form, shipped, 422)
    return redirect(url_for("imports.batch", uuid=batch.uuid), 303)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Any:
    """A file over the limit: the upload form again, naming the field (not a bare 413)."""
    message = _("El archivo pasa del límite de %(mb)d MB.", mb=_limit_mb())
    if not (
        current_user.is_authenticated and has_permission(current_user.role, Permission.CASE_IMPORT)
    ):
        return render_template("errors/error.html", status=413, title=None, message=None), 413
    shipped = _shipped()
    form = _upload_form(shipped, read_request=False)  # the body is the problem: unread
    form.file.errors = [
        message + " " + _("Divida el archivo o impórtelo con «flask import run» en el servidor.")
    ]
    db.session.rollback()
    # the guard refused the body before its other checks (first password, two-factor
    # enrolment): show the form, but none of the organization's batches
    return _render_index(form, shipped, 413, with_batches=False)


@bp.get("/batches")
@requires(Permission.CASE_IMPORT)
def batches() -> Any:
    return render_template("imports/batches.html", batches=services.list_batches(_actor()))


def _render_batch(
    batch: ImportBatch,
    *,
    confirm_form: ConfirmForm | None = None,
    status: int = 200,
) -> Any:
    actor = _actor()
    problems: list[Problem] = []
    if batch.report:
        problems = _problems(services.batch_report(actor, batch), PROBLEMS_SHOWN)
    records = (
        services.batch_records(actor, batch, limit=RECORDS_SHOWN)
        if batch.status == "imported"
        else []
    )
    return render_template(
        "imports/batch.html",
        batch=batch,
        profile=_profile(batch.profile),
        problems=problems,
        records=records,
        records_shown=RECORDS_SHOWN,
        confirm_form=confirm_form or ConfirmForm(),
        can_confirm=batch.status == "checked" and batch.upload is not None,
    ), status


@bp.get("/<uuid>")
@requires(Permission.CASE_IMPORT)
def batch(uuid: str) -> Any:
    """Step 2 (a checked batch: counts, problems, confirm) or step 3 (an imported one)."""
    return _render_batch(services.get_batch(_actor(), uuid))


@bp.get("/<uuid>/problems.csv")
@requires(Permission.CASE_IMPORT)
def report(uuid: str) -> Any:
    """Every problem of the batch (line, column, value, message) as CSV."""
    actor = _actor()
    batch = services.get_batch(actor, uuid)
    body = services.report_csv(_problems(services.batch_report(actor, batch)))
    name = f"problemas-{batch.register}-{batch.uuid[:8]}.csv"
    return Response(
        "\ufeff" + body,  # a BOM: spreadsheets then read the accents right
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/<uuid>/confirm")
@requires(Permission.CASE_IMPORT)
def confirm(uuid: str) -> Any:
    """Step 3: import the checked file (all rows, or only the good ones when asked)."""
    actor = _actor()
    batch = services.get_batch(actor, uuid)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_batch(batch, confirm_form=form, status=422)
    if batch.status != "checked" or batch.upload is None:
        form.form_errors.append(_("Este lote ya no espera confirmación."))
        return _render_batch(batch, confirm_form=form, status=409)
    profile = _profile(batch.profile)
    if profile is None:
        form.form_errors.append(
            _(
                "El perfil «%(name)s» ya no existe o tiene errores; vuelva a subir el archivo.",
                name=batch.profile,
            )
        )
        return _render_batch(batch, confirm_form=form, status=409)
    try:
        result = services.confirm(actor, uuid, profile, skip_bad_rows=form.skip_bad_rows.data)
    except services.ImportRefused as exc:
        db.session.rollback()  # nothing of the refused run stays (the page then reads afresh)
        form.skip_bad_rows.errors = [
            ngettext(
                "El archivo tiene %(num)d fila con problemas y no se importó nada: corríjala y "
                "vuelva a subir el archivo, o marque «Importar sin las filas con problemas».",
                "El archivo tiene %(num)d filas con problemas y no se importó nada: corríjalas y "
                "vuelva a subir el archivo, o marque «Importar sin las filas con problemas».",
                exc.result.rows_bad,
            )
        ]
        return _render_batch(services.get_batch(actor, uuid), confirm_form=form, status=422)
    except Conflict:
        db.session.rollback()
        form.form_errors.append(_("Este lote ya no espera confirmación."))
        return _render_batch(services.get_batch(actor, uuid), confirm_form=form, status=409)
    flash(
        _(
            "Importación terminada: %(created)d casos nuevos, %(existing)d ya importados antes, "
            "%(bad)d filas con problemas fuera.",
            created=result.created,
            existing=result.existing,
            bad=result.rows_bad,
        ),
        "success",
    )
    return redirect(url_for("imports.batch", uuid=uuid), 303)


@bp.route("/<uuid>/rollback", methods=["GET", "POST"])
@requires(Permission.CASE_IMPORT)
def rollback(uuid: str) -> Any:
    """Ask, then remove what the batch imported (refused once its cases were worked on)."""
    actor = _actor()
    batch = services.get_batch(actor, uuid)
    form = RollbackForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.rollback(actor, uuid)
            except Conflict as exc:
                db.session.rollback()
                batch = services.get_batch(actor, uuid)
                if exc.code == "import_cases_worked_on":
                    n = int(exc.extra.get("worked_on", 0))
                    form.form_errors.append(
                        ngettext(
                            "No se deshizo la importación: %(num)d caso importado ya se trabajó "
                            "en Ruta (se editó, se volvió a evaluar, se derivó…). Ciérrelo desde "
                            "su página en lugar de deshacer el lote.",
                            "No se deshizo la importación: %(num)d casos importados ya se "
                            "trabajaron en Ruta (se editaron, se volvieron a evaluar, se "
                            "derivaron…). Ciérrelos desde sus páginas en lugar de deshacer el "
                            "lote.",
                            n,
                        )
                    )
                else:
                    form.form_errors.append(_("Solo se puede deshacer un lote importado."))
                return render_template("imports/rollback.html", batch=batch, form=form), 409
            flash(
                ngettext(
                    "Importación deshecha: se eliminó %(num)d caso importado.",
                    "Importación deshecha: se eliminaron %(num)d casos importados.",
                    batch.rows_created,
                ),
                "success",
            )
            return redirect(url_for("imports.batch", uuid=uuid), 303)
        status = 422
    return render_template("imports/rollback.html", batch=batch, form=form), status
