"""Navigation entries, shown to a user only when their role grants the page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from caseapp.accounts.forms import ROLE_LABELS
from caseapp.audit import labels
from caseapp.core.i18n import locale
from caseapp.core.security import Permission, has_permission
from caseapp.core.time import lima_text


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: Any
    description: Any
    permission: Permission


NAV: list[NavEntry] = [
    NavEntry(
        "screening.new",
        _l("Nueva evaluación"),
        _l("Registrar lo que la persona cuenta y ver si hay elementos de trata."),
        Permission.CASE_CREATE,
    ),
    NavEntry("screening.cases", _l("Casos"), _l("Casos de su organización."), Permission.CASE_READ),
    NavEntry(
        "referrals.incoming",
        _l("Derivaciones recibidas"),
        _l("Derivaciones dirigidas a su organización."),
        Permission.REFERRAL_RECEIVE,
    ),
    NavEntry(
        "referrals.outgoing",
        _l("Derivaciones enviadas"),
        _l("Seguimiento de las derivaciones de su organización."),
        Permission.CASE_READ,
    ),
    NavEntry(
        "shelters.index",
        _l("Albergue"),
        _l("Plazas, ingresos y egresos."),
        Permission.ADMISSION_MANAGE,
    ),
    NavEntry(
        "referrals.escalations",
        _l("Escalamientos"),
        _l("Derivaciones obligatorias vencidas."),
        Permission.ESCALATION_INBOX,
    ),
    NavEntry(
        "directory.index",
        _l("Directorio"),
        _l("Servicios de atención y protección por región."),
        Permission.DIRECTORY_VIEW,
    ),
    NavEntry(
        "reports.index",
        _l("Estadísticas"),
        _l("Cifras armonizadas y sin duplicados."),
        Permission.REPORTS_VIEW,
    ),
    NavEntry(
        "exchange.htcds_page",
        _l("Intercambio HTCDS"),
        _l("Descargar los casos de su organización en el estándar HTCDS 2.0."),
        Permission.HTCDS_EXPORT,
    ),
    NavEntry(
        "imports.index",
        _l("Importar registros"),
        _l("Traer a Ruta los casos de un registro que su organización ya lleva."),
        Permission.CASE_IMPORT,
    ),
    NavEntry(
        "accounts.pending_accounts",
        _l("Cuentas por aprobar"),
        _l("Cuentas nuevas de su organización que esperan su aprobación."),
        Permission.ACCOUNTS_APPROVE,
    ),
    NavEntry(
        "accounts.users", _l("Usuarios"), _l("Crear y revisar cuentas."), Permission.USERS_MANAGE
    ),
    NavEntry(
        "audit.index",
        _l("Auditoría"),
        _l("Registro a prueba de manipulación de accesos y cambios."),
        Permission.AUDIT_VIEW,
    ),
]


def nav_items() -> list[dict[str, Any]]:
    if not current_user.is_authenticated:
        return []
    endpoints = {rule.endpoint for rule in current_app.url_map.iter_rules()}
    items = []
    for entry in NAV:
        if entry.endpoint in endpoints and has_permission(current_user.role, entry.permission):
            items.append(
                {
                    "url": url_for(entry.endpoint),
                    "label": entry.label,
                    "description": entry.description,
                    "active": request.endpoint == entry.endpoint
                    or (
                        entry.endpoint.endswith(".index")
                        and request.blueprint == entry.endpoint.split(".")[0]
                    ),
                }
            )
    return items


def code_label(list_name: str, code: str | None) -> str:
    """Label of a code in the current language; unknown codes shown as they are."""
    from caseapp.core import codes

    if code is None:
        return "—"
    try:
        return codes.get(list_name).label(code, locale())
    except KeyError:
        return code


def eligibility_text(service: Any) -> str:
    """Who a service takes, in one line ("mujeres, 18–120 años, extranjeras sí")."""
    from flask_babel import gettext as _

    parts = []
    sexes = {"F": _("mujeres"), "M": _("hombres")}.get(service.sexes, _("todos los sexos"))
    parts.append(sexes)
    if service.min_age == 0 and service.max_age >= 120:
        parts.append(_("todas las edades"))
    elif service.max_age >= 120:
        parts.append(_("%(n)d años o más", n=service.min_age))
    else:
        parts.append(_("%(a)d–%(b)d años", a=service.min_age, b=service.max_age))
    if not service.accepts_transgender:
        parts.append(_("no acepta personas trans"))
    if not service.accepts_foreign:
        parts.append(_("solo nacionales"))
    return ", ".join(parts)


def code_label_es(list_name: str, code: str | None) -> str:
    """Spanish label whatever the UI language (letters go to other institutions)."""
    from caseapp.core import codes

    if code is None:
        return "—"
    try:
        return codes.get(list_name).label(code, "es")
    except KeyError:
        return code


def lima_datetime(value: Any) -> str:
    return lima_text(value)


def lima_datetime_iso(value: str | None) -> str:
    return lima_text(value)


def lima_date(value: Any) -> str:
    return lima_text(value, with_time=False)


def person_category(sex: str | None, gender_identity: str | None, age: str | None) -> str:
    """ "Mujer adulta (trans)": words follow gender identity when recorded (core/gender.py)."""
    from caseapp.core import gender

    return gender.words(sex, gender_identity, age).category(locale())


def person_category_es(sex: str | None, gender_identity: str | None, age: str | None) -> str:
    """The same in Spanish whatever the UI language (for letters)."""
    from caseapp.core import gender

    return gender.words(sex, gender_identity, age).category_es


def help_url() -> str:
    """This page's chapter of the user guide, in the reader's language."""
    from caseapp.web.guide import help_anchor

    return url_for("guide.index", _anchor=help_anchor())


def template_globals() -> dict[str, Any]:
    return {
        "nav_items": nav_items,
        "role_label": lambda role: ROLE_LABELS.get(role, role),
        "action_label": labels.action_label,
        "reason_label": labels.event_reason_label,
        "current_locale": locale,
        "code_label": code_label,
        "code_label_es": code_label_es,
        "person_category": person_category,
        "help_url": help_url,
        "person_category_es": person_category_es,
        "lima_datetime": lima_datetime,
        "lima_datetime_iso": lima_datetime_iso,
        "lima_date": lima_date,
        "eligibility_text": eligibility_text,
        "has_permission": lambda role, perm: has_permission(role, Permission(perm)),
    }
