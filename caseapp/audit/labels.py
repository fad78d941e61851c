"""Readable labels for audit actions and referral-history reasons (issue 14: people see
words in their language, never internal codes). Unknown codes are shown as they are."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

from caseapp.core import codes
from caseapp.core.i18n import locale

ACTION_LABELS: Mapping[str, object] = {
    "screening.create": _l("Evaluación registrada"),
    "screening.read": _l("Evaluación consultada"),
    "screening.override": _l("Decisión de supervisión registrada"),
    "determination.override": _l("Decisión de supervisión registrada"),
    "case.create": _l("Caso creado"),
    "case.read": _l("Caso consultado"),
    "case.list": _l("Lista de casos consultada"),
    "case.update": _l("Datos del caso modificados"),
    "case.close": _l("Caso cerrado"),
    "case.legal_hold": _l("Conservación por orden judicial activada"),
    "case.legal_hold_release": _l("Conservación por orden judicial levantada"),
    "consent.record": _l("Consentimiento registrado"),
    "consent.withdraw": _l("Consentimiento retirado"),
    "consent.override": _l("Envío sin consentimiento (excepción)"),
    "referral.assign": _l("Proveedor asignado a la derivación"),
    "referral.consent": _l("Derivación actualizada según el consentimiento"),
    "referral.send": _l("Derivación enviada"),
    "referral.receive": _l("Derivación recibida"),
    "referral.read": _l("Derivación consultada"),
    "referral.list": _l("Lista de derivaciones consultada"),
    "referral.accept": _l("Derivación aceptada"),
    "referral.decline": _l("Derivación rechazada"),
    "referral.reroute": _l("Derivación propuesta a otro proveedor"),
    "referral.complete": _l("Derivación completada"),
    "referral.cancel": _l("Derivación anulada"),
    "referral.escalate": _l("Derivación obligatoria vencida escalada a supervisión"),
    "referral.escalations_read": _l("Bandeja de escalamientos consultada"),
    "admission.create": _l("Ingreso al albergue registrado"),
    "admission.discharge": _l("Egreso del albergue registrado"),
    "admission.list": _l("Residentes del albergue consultados"),
    "report.read": _l("Informe estadístico consultado"),
    "retention.purge": _l("Datos personales eliminados por plazo de conservación"),
    "retention.purge_run": _l("Eliminación por plazo de conservación ejecutada"),
    "auth.login": _l("Inicio de sesión"),
    "auth.logout": _l("Cierre de sesión"),
    "auth.locked": _l("Cuenta bloqueada temporalmente"),
    "auth.password_change": _l("Contraseña cambiada"),
    "auth.recovery_code_used": _l("Código de recuperación usado"),
    "user.create": _l("Cuenta creada"),
    "user.approve": _l("Cuenta aprobada"),
    "user.pending_approval": _l("Cuenta en espera de aprobación"),
    "user.deactivate": _l("Cuenta desactivada"),
    "user.reactivate": _l("Cuenta reactivada"),
    "token.create": _l("Token de API creado"),
    "token.revoke": _l("Token de API revocado"),
    "token.revoke_all": _l("Todos los tokens de API revocados"),
    "directory.load": _l("Directorio cargado"),
    "directory.update": _l("Servicio del directorio modificado"),
    "backup.create": _l("Copia de seguridad creada"),
    "backup.restore": _l("Copia de seguridad restaurada"),
    "keys.rotate": _l("Claves de cifrado rotadas"),
    "synth.generate": _l("Datos sintéticos generados"),
    "import.check": _l("Archivo de registro revisado (importación de prueba)"),
    "import.run": _l("Registro importado"),
    "import.read": _l("Lote importado consultado"),
    "import.report": _l("Informe de problemas de una importación consultado"),
    "import.rollback": _l("Importación deshecha"),
}

#: Reasons of referral transitions that are not in a code list (codes.py holds the
#: decline, cancel and discharge reasons).
EVENT_REASON_LABELS: Mapping[str, object] = {
    "consent_given": _l("consentimiento registrado"),
    "consent_narrowed": _l("el consentimiento ya no la cubre"),
    "consent_override": _l("enviada sin consentimiento, con justificación"),
    "overdue_mandatory_referral": _l("derivación obligatoria vencida"),
}

_REASON_LISTS = ("decline_reason", "cancel_reason", "discharge_reason")


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def event_reason_label(reason: str | None) -> str:
    """The reason of a referral transition in the reader's language; a provider code (the
    reason of an assignment) or an unknown code is shown as it is."""
    if not reason:
        return ""
    if reason in EVENT_REASON_LABELS:
        return str(EVENT_REASON_LABELS[reason])
    for name in _REASON_LISTS:
        code_list = codes.get(name)
        if reason in code_list:
            return code_list.label(reason, locale())
    return reason
