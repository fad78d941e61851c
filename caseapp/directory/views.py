"""Directory pages: browse and filter services; admins edit them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from caseapp.core import codes
from caseapp.core.errors import ValidationFailed
from caseapp.core.i18n import locale
from caseapp.core.security import Permission, requires
from caseapp.core.validation import apply_errors
from caseapp.directory import services
from caseapp.directory.forms import DirectoryFilterForm, ServiceEditForm
from caseapp.directory.hours import parse_hours
from caseapp.directory.messages import localize
from caseapp.directory.models import Region, Service
from caseapp.extensions import db

bp = Blueprint("directory", __name__, url_prefix="/directory")


def _locale() -> str:
    return locale()


def _region_choices() -> list[tuple[str, str]]:
    regions = db.session.scalars(sa.select(Region).order_by(Region.name)).all()
    return [(r.code, r.name) for r in regions]


@bp.get("/")
@requires(Permission.DIRECTORY_VIEW)
def index() -> Any:
    form = DirectoryFilterForm(request.args)
    form.service_type.choices = [("", _("Todos")), *codes.get("service_type").choices(_locale())]
    form.region.choices = [("", _("Todas")), *_region_choices()]
    rows = []
    if form.validate():
        rows = services.search_services(
            service_type=form.service_type.data or None,
            region=form.region.data or None,
            q=form.q.data or None,
        )
    regions = dict(_region_choices())
    return render_template(
        "directory/index.html",
        form=form,
        rows=rows,
        regions=regions,
        describe_hours=lambda h: parse_hours(h).describe(_locale()),
        occupancy=services.occupancy_map(rows),
    )


@bp.get("/<code>")
@requires(Permission.DIRECTORY_VIEW)
def organization(code: str) -> Any:
    org = services.get_organization(code)
    if org is None:
        abort(404)
    regions = dict(_region_choices())
    return render_template(
        "directory/organization.html",
        org=org,
        regions=regions,
        describe_hours=lambda h: parse_hours(h).describe(_locale()),
        occupancy=services.occupancy_map(org.services),
    )


@bp.route("/<code>/services/<int:service_id>/edit", methods=["GET", "POST"])
@requires(Permission.DIRECTORY_EDIT)
def edit_service(code: str, service_id: int) -> Any:
    service = db.session.get(Service, service_id)
    if service is None or service.organization.code != code:
        abort(404)
    org = service.organization
    if request.method == "GET":
        form = ServiceEditForm(
            obj=service,
            name=org.name,
            region=org.region_code,
            city=org.city,
            notes=org.notes,
        )
        # obj= wins over keyword data in WTForms: give the list fields their text form.
        form.languages.data = ";".join(service.languages)
        form.nationalities.data = ";".join(service.nationalities)
        form.serves.data = ";".join(service.serves)
    else:
        form = ServiceEditForm()
    form.region.choices = _region_choices()
    if form.validate_on_submit():
        changes = {
            "name": form.name.data,
            "region": form.region.data,
            "city": form.city.data or "",
            "min_age": form.min_age.data if form.min_age.data is not None else 0,
            "max_age": form.max_age.data if form.max_age.data is not None else 120,
            "sexes": form.sexes.data,
            "accepts_transgender": form.accepts_transgender.data,
            "accepts_foreign": form.accepts_foreign.data,
            "capacity": form.capacity.data,
            "hours": form.hours.data,
            "notes": form.notes.data or "",
            "languages": services.split_list(form.languages.data),
            "nationalities": services.split_list(form.nationalities.data),
            "serves": services.split_list(form.serves.data),
            "is_active": form.is_active.data,
        }
        try:
            services.update_service(current_user, service, changes)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, localize(exc))
        else:
            flash(_("Servicio actualizado."), "success")
            return redirect(url_for("directory.organization", code=code))
    status = 422 if request.method == "POST" else 200
    return render_template("directory/edit.html", form=form, org=org, service=service), status
