"""Web forms of screening and cases.

The forms do not validate codes, dates or numbers themselves: :meth:`ScreeningForm.to_payload`
turns the posted fields into exactly the JSON body of ``POST /api/v1/screenings`` (api.md §4)
and the view hands it to :func:`caseapp.screening.schema.parse_screening`, so a page and the
API accept and refuse the same things with the same field paths. Field names are the payload
paths with ``_`` instead of ``.`` (``person.sex`` → ``person_sex``), which is what
:func:`caseapp.core.validation.apply_errors` relies on to put each error next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from pydantic import BaseModel
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import DateInput, DateTimeLocalInput, NumberInput

from caseapp.core import codes
from caseapp.core.contract import Rule
from caseapp.core.errors import ValidationFailed
from caseapp.core.time import LIMA
from caseapp.screening.schema import CasePatch, ScreeningRequest

DATETIME_LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")

# Tri-state answers: "" = not known (null), then yes / no.
UNKNOWN, YES, NO = "", "yes", "no"


def _select(label: Any, **kw: Any) -> SelectField:
    # Choices are checked by parse_screening (one validator for page and API), not WTForms.
    return SelectField(label, validate_choice=False, **kw)


def _radio(label: Any, **kw: Any) -> RadioField:
    """A short list shown as radio buttons: one tap instead of two (open, pick) on a phone
    (docs/frontline-form.md). Checked by parse_screening like :func:`_select`."""
    return RadioField(label, validate_choice=False, **kw)


def _multi(label: Any) -> SelectMultipleField:
    return SelectMultipleField(label, validate_choice=False)


def _tri(label: Any) -> RadioField:
    return _radio(label, default=UNKNOWN)


# -- reading posted values ------------------------------------------------------------


def _text(field: Field) -> str | None:
    value = field.data
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _codes(field: Field) -> list[str]:
    out: list[str] = []
    for value in field.data or []:
        if value not in out:
            out.append(value)
    return out


def _tri_value(field: Field) -> bool | str | None:
    value = _text(field)
    if value is None:
        return None
    # Anything else goes through unchanged, so the schema reports it for this field.
    return {YES: True, NO: False}.get(value, value)


def _integer(field: Field) -> int | str | None:
    value = _text(field)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value  # the schema says "must be a whole number" for this field


def lima_datetime_local(value: str | None) -> str | None:
    """``2026-03-14T22:30`` typed in Peru → ``2026-03-14T22:30:00-05:00``.

    Unparseable text is returned as it is, so the schema reports it for ``identified_at``.
    """
    if value is None:
        return None
    for fmt in DATETIME_LOCAL_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=LIMA).isoformat()
    return value


def now_in_lima() -> str:
    return datetime.now(LIMA).strftime("%Y-%m-%dT%H:%M")


_READERS: dict[str, Callable[[Field], Any]] = {
    "text": _text,
    "code": _text,
    "date": _text,
    "codes": _codes,
    "flag": lambda field: bool(field.data),
    "tri": _tri_value,
    "number": _integer,
    "datetime": lambda field: lima_datetime_local(_text(field)),
}


def _nested(annotation: Any) -> type[BaseModel] | None:
    """The request model a field holds (``PersonInput``, ``DocumentInput | None``…)."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def payload_of(
    model: type[BaseModel], form: Any, prefix: str = "", *, clear: bool = False
) -> dict[str, Any]:
    """The request body ``model`` validates, read from ``form``: one entry per model field
    that has an input named by its path (``person.sex`` → ``person_sex``); the model's
    field types say how to read each input (no second list of fields).

    Empty inputs are left out (the API treats absent as unknown), except a required field
    (sent as ``null``, so the model's "required" message names it) and, with ``clear``
    (a PATCH), every field (``null`` clears it; an empty nested object is ``null``)."""
    out: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = prefix + name
        nested = _nested(info.annotation)
        if nested is not None:
            sub = payload_of(nested, form, path + "_", clear=clear)
            value = sub if any(v is not None for v in sub.values()) else None
        else:
            field = getattr(form, path, None)
            rule = next((m for m in info.metadata if isinstance(m, Rule)), None)
            if field is None or rule is None:
                continue  # not asked on this form (e.g. the consent scope)
            value = _READERS[rule.kind](field)
        if value is not None or clear or info.is_required():
            out[name] = value
    return out


@dataclass(frozen=True)
class Option:
    """One checkbox of a group: its code, label, plain-language help and flags."""

    code: str
    label: str
    help: str | None = None
    strong: bool = False


def _options(list_name: str, locale: str, only: Iterable[str] | None = None) -> list[Option]:
    wanted = set(only) if only is not None else None
    return [
        Option(
            item.code,
            item.label(locale),
            item.help(locale),
            bool(item.extra.get("strong", False)),
        )
        for item in codes.get(list_name)
        if wanted is None or item.code in wanted
    ]


def _placeholder(text: Any) -> list[tuple[str, str]]:
    return [("", str(text))]


# -- screening --------------------------------------------------------------------------


class ScreeningForm(FlaskForm):
    """Everything ``POST /api/v1/screenings`` accepts, grouped as a frontline worker asks it."""

    # Identificación
    identified_at = StringField(
        _l("Fecha y hora de la identificación"), widget=DateTimeLocalInput()
    )
    region = _select(_l("Región donde se identificó a la persona"))
    identification_context = _radio(_l("Cómo se identificó a la persona"))

    # Persona
    person_given_names = StringField(_l("Nombres"))
    person_family_names = StringField(_l("Apellidos"))
    person_sex = _radio(
        _l("Sexo"),
        description=_l(
            "Obligatorio. El sexo que figura en el documento de identidad (DNI, carné, "
            "pasaporte); sin documento, el que la persona declare. Si no se sabe, elija "
            "«No se sabe». La identidad de género se pregunta aparte."
        ),
    )
    person_gender_identity = _radio(
        _l("Identidad de género"),
        description=_l(
            "Cómo se identifica la persona, aunque no coincida con su documento; Ruta la "
            "nombra según esta identidad. Pregúntelo solo si es seguro y necesario."
        ),
    )
    person_lgbtqi = _tri(_l("¿Se identifica como persona LGBTIQ+?"))
    person_date_of_birth = StringField(_l("Fecha de nacimiento"), widget=DateInput())
    person_age_years = StringField(
        _l("Edad (años cumplidos)"), widget=NumberInput(min=0, max=120, step=1)
    )
    person_age_estimated = BooleanField(_l("La edad es estimada (no se vio un documento)"))
    person_appears_minor = _tri(_l("¿Parece menor de 18 años?"))
    person_nationality = _multi(_l("Nacionalidad"))
    person_nationality_other = _select(_l("Otra nacionalidad"))
    person_document_type = _radio(_l("Tipo de documento"))
    person_document_number = StringField(_l("Número de documento"))
    person_languages = _multi(_l("Idiomas que habla"))
    person_migration_status = _radio(_l("Situación migratoria"))
    person_pregnant = BooleanField(_l("Está embarazada (gestante)"))
    person_disability = BooleanField(_l("Tiene alguna discapacidad"))
    person_unaccompanied = BooleanField(
        _l("Niña, niño o adolescente sin un adulto responsable que la o lo acompañe")
    )
    person_contact = StringField(_l("Contacto (teléfono u otra forma segura)"))
    person_address = StringField(_l("Dirección o lugar donde se puede ubicar"))

    # Qué pasó (art. 129-A)
    acts = _multi(_l("¿Qué le hicieron? (acto)"))
    means = _multi(_l("¿Cómo lo lograron? (medio)"))
    purposes = _multi(_l("¿Para qué? (finalidad)"))
    stated_consent = BooleanField(_l("La persona dice que aceptó ir o trabajar"))

    # Indicadores
    indicators = _multi(_l("Indicadores de control"))

    # Contexto
    context_origin_region = _select(_l("Región de origen"))
    context_exploitation_region = _select(_l("Región donde la explotaron o querían explotarla"))
    context_sector = _radio(_l("Sector o actividad"))
    context_trafficker_relation = _radio(_l("Relación con quien la captó"))
    context_recruitment_method = _radio(_l("Forma de captación"))
    context_public_official_involved = BooleanField(_l("Participó un funcionario público"))
    context_multiple_victims = BooleanField(_l("Hay varias víctimas"))
    context_criminal_organization = BooleanField(_l("Actúa una organización criminal"))
    context_serious_injury_or_death = BooleanField(_l("Hubo lesiones graves o una muerte"))

    # Necesidades
    needs = _multi(_l("Necesidades"))

    # Consentimiento
    consent_given = _radio(_l("¿La persona acepta las derivaciones?"), default="")
    consent_given_by = _radio(_l("¿Quién da el consentimiento?"), default="person")
    consent_method = _radio(_l("Forma del consentimiento"), default="verbal")

    # Notas
    notes = TextAreaField(_l("Notas"))

    # One-time token against double submission (Idempotency-Key of the page).
    submission_id = HiddenField()

    def __init__(self, *args: Any, locale: str = "es", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale = locale
        choose = _placeholder(_("— Elija una opción —"))
        blank = _placeholder(_("— Sin dato —"))
        no_data = _placeholder(_("Sin dato"))  # the first radio button: nothing recorded

        def choices(name: str) -> list[tuple[str, str]]:
            return codes.get(name).choices(locale)

        self.region.choices = choose + choices("region")
        self.identification_context.choices = no_data + choices("identification_context")
        self.person_sex.choices = choices("sex")
        self.person_gender_identity.choices = no_data + choices("gender_identity")
        tri = [(UNKNOWN, _("No se sabe")), (YES, _("Sí")), (NO, _("No"))]
        self.person_lgbtqi.choices = tri
        self.person_appears_minor.choices = tri
        common = codes.NATIONALITY.where("common")
        self.person_nationality.choices = [
            (o.code, o.label) for o in _options("nationality", locale, common)
        ]
        self.person_nationality_other.choices = blank + choices("nationality")
        self.person_document_type.choices = no_data + choices("document_type")
        self.person_languages.choices = choices("language")
        self.person_migration_status.choices = no_data + choices("migration_status")
        self.acts.choices = choices("act")
        self.means.choices = choices("means")
        self.purposes.choices = choices("purpose")
        self.indicators.choices = [(o.code, o.label) for o in self.indicator_options()]
        for name in ("context_origin_region", "context_exploitation_region"):
            getattr(self, name).choices = blank + choices("region")
        self.context_sector.choices = no_data + choices("sector")
        self.context_trafficker_relation.choices = no_data + choices("trafficker_relation")
        self.context_recruitment_method.choices = no_data + choices("recruitment_method")
        self.needs.choices = choices("need")
        self.consent_given.choices = [
            ("", _("Todavía no se le preguntó")),
            (YES, _("Sí, acepta")),
            (NO, _("No, no acepta")),
        ]
        self.consent_given_by.choices = choices("consent_given_by")
        self.consent_method.choices = choices("consent_method")

    # -- options of the checkbox groups, with their help texts ---------------------------
    def options(self, list_name: str) -> list[Option]:
        return _options(list_name, self.locale)

    def nationality_options(self) -> list[Option]:
        return _options("nationality", self.locale, codes.NATIONALITY.where("common"))

    def indicator_options(self) -> list[Option]:
        """Strong indicators first (one alone makes a case "possible", domain.md §1.3)."""
        items = _options("indicator", self.locale)
        return [o for o in items if o.strong] + [o for o in items if not o.strong]

    # -- the API payload -----------------------------------------------------------------
    def to_payload(self) -> dict[str, Any]:
        """The exact body of ``POST /api/v1/screenings`` for what was typed and ticked."""
        payload = payload_of(ScreeningRequest, self)
        person = payload["person"]
        other = _text(self.person_nationality_other)
        if other and other not in person["nationality"]:
            person["nationality"].append(other)
        given = _tri_value(self.consent_given)  # a yes/no question that may not be asked yet
        if given is None:
            payload.pop("consent", None)  # then referrals needing consent wait for it
        else:  # the page asks for consent to every referral (no scope question)
            payload["consent"].update(given=given, scope=["all"])
        return payload


# -- supervisor override ----------------------------------------------------------------


class OverrideForm(FlaskForm):
    status = _select(_l("Decisión de la supervisora o del supervisor"))
    justification = TextAreaField(_l("Justificación"))

    def __init__(self, *args: Any, locale: str = "es", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = _placeholder(_("— Elija una opción —")) + codes.get(
            "determination_status"
        ).choices(locale)


# -- case edit --------------------------------------------------------------------------


class CaseEditForm(FlaskForm):
    """Identity and contact data of a case (``PATCH /api/v1/cases/{id}``).

    Facts that drive the determination are not edited here: a new screening records them.
    """

    version = HiddenField()
    person_given_names = StringField(_l("Nombres"))
    person_family_names = StringField(_l("Apellidos"))
    person_document_type = _select(_l("Tipo de documento"))
    person_document_number = StringField(_l("Número de documento"))
    person_contact = StringField(_l("Contacto (teléfono u otra forma segura)"))
    person_address = StringField(_l("Dirección o lugar donde se puede ubicar"))
    person_languages = _multi(_l("Idiomas que habla"))
    status = _select(_l("Estado del caso"))

    def __init__(self, *args: Any, locale: str = "es", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale = locale
        self.person_document_type.choices = _placeholder(_("— Sin dato —")) + codes.get(
            "document_type"
        ).choices(locale)
        self.person_languages.choices = codes.get("language").choices(locale)
        self.status.choices = codes.get("case_status").choices(locale)

    def options(self, list_name: str) -> list[Option]:
        return _options(list_name, self.locale)

    def load(self, case_doc: dict[str, Any]) -> None:
        """Fill the form with the case as it is now (its ``case_document``)."""
        person = case_doc["person"]
        document = person.get("document") or {}
        self.version.data = str(case_doc["version"])
        self.person_given_names.data = person.get("given_names") or ""
        self.person_family_names.data = person.get("family_names") or ""
        self.person_document_type.data = document.get("type") or ""
        self.person_document_number.data = document.get("number") or ""
        self.person_contact.data = person.get("contact") or ""
        self.person_address.data = person.get("address") or ""
        self.person_languages.data = list(person.get("languages") or [])
        self.status.data = case_doc["status"]

    def to_payload(self, *, with_status: bool) -> dict[str, Any]:
        """The body of ``PATCH /api/v1/cases/{id}``; ``status`` only for roles that may
        close a case (the service refuses closing to others anyway)."""
        payload = payload_of(CasePatch, self, clear=True)
        if not with_status or payload["status"] is None:
            del payload["status"]
        return payload


# -- case list filter ----------------------------------------------------------------------


class CaseFilterForm(FlaskForm):
    """Filter of the case list. The page posts it (a name or document number must not be
    in URLs, screening/search.py) with the session's CSRF token, checked by CSRFProtect;
    ``GET /cases?…`` (old links) reads it from the query string.

    Its values are checked by ``services.parse_filters``, the same as ``GET /api/v1/cases``.
    """

    class Meta:
        csrf = False

    status = _select(_l("Estado del caso"))
    determination = _select(_l("Resultado"))
    region = _select(_l("Región"))
    q = StringField(_l("Nombre completo o número de documento (búsqueda exacta)"))

    def __init__(self, *args: Any, locale: str = "es", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [("", _("Todos")), *codes.get("case_status").choices(locale)]
        self.determination.choices = [
            ("", _("Todos")),
            *codes.get("determination_status").choices(locale),
        ]
        self.region.choices = [("", _("Todas")), *codes.get("region").choices(locale)]

    def set_determination_labels(self, labels: dict[str, Any]) -> None:
        """Use the same wording as the status badges of the pages."""
        self.determination.choices = [
            (code, str(labels.get(code, label)) if code else label)
            for code, label in self.determination.choices or []
        ]


# -- validation messages for pages -------------------------------------------------------

_INDEX = re.compile(r"\[\d+\]")
_RANGE = re.compile(r"must be a whole number from (\d+) to (\d+)")
_MAX = re.compile(r"at most (\d+) characters")
_AGE_DOB = re.compile(r"disagrees with person\.\w+ \(.*?gives (\d+) years")


def _page_message(message: str) -> str:
    """The schema's English message in the UI language, for a person, not a programmer."""
    if message.startswith("required: explain"):
        return _("Explique el motivo (al menos 10 caracteres).")
    if message.startswith("required (use"):
        return _("Elija una opción (si no se sabe, elija «No se sabe»).")
    if message.startswith("required when a document type"):
        return _("Escriba el número del documento o elija «Sin documento».")
    if message.startswith("required"):
        return _("Este dato es obligatorio.")
    if message.startswith(("unknown code", "must be true or false", "must be indicated")):
        return _("Elija una de las opciones de la lista.")
    if message.startswith(("must be open or closed", "unknown region", "unknown status")):
        return _("Elija una de las opciones de la lista.")
    if message == "unknown parameter":
        return _("Filtro desconocido.")
    if message == "unknown field":
        return _("Dato desconocido.")
    if message.startswith("must be a date YYYY"):
        return _("Escriba una fecha válida (día, mes y año).")
    if message.startswith("must be a date-time"):
        return _("Escriba una fecha y hora válidas.")
    if message == "cannot be in the future":
        return _("La fecha y hora no pueden ser posteriores a este momento.")
    if message == "is after the date of identification":
        return _("La fecha de nacimiento es posterior a la fecha de identificación.")
    if message.startswith("is more than 120 years"):
        return _("La fecha de nacimiento es de hace más de 120 años.")
    if message.startswith("must be the integer version"):
        return _("Vuelva a abrir el formulario e inténtelo de nuevo.")
    if match := _AGE_DOB.match(message):
        return _(
            "La edad y la fecha de nacimiento no coinciden (según la fecha de nacimiento "
            "tendría %(n)d años el día de la identificación). Corrija una de las dos.",
            n=int(match.group(1)),
        )
    if match := _RANGE.match(message):
        lo, hi = (int(n) for n in match.groups())
        return _("Escriba un número entero de %(lo)d a %(hi)d.", lo=lo, hi=hi)
    if match := _MAX.match(message):
        return _("Escriba como máximo %(n)d caracteres.", n=int(match.group(1)))
    return message


def page_errors(exc: ValidationFailed) -> ValidationFailed:
    """The same errors, keyed by form field (``acts[2]`` → ``acts``) and in the UI language,
    ready for :func:`caseapp.core.validation.apply_errors`."""
    fields: dict[str, list[str]] = {}
    for path, messages in exc.fields.items():
        key = _INDEX.sub("", path)
        bucket = fields.setdefault(key, [])
        for message in messages:
            text = _page_message(message)
            if text not in bucket:
                bucket.append(text)
    return ValidationFailed(fields)
