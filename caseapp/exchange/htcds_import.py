"""HTCDS 2.0 import (docs/exchange.md): each case becomes the screening request the API
takes, validated by the same contract and recorded by the intake service.

* A case carrying the ``ruta`` extension (a Ruta export) is imported from it as recorded;
  its HTCDS fields are still checked. A case without it (another system's file) is read
  through the crosswalks; it needs ``IdentificationDate`` (HTCDS has no such field and a
  historical case must not count as identified today).
* Idempotent by the source case id (``CaseId``) per organization: a case imported before is
  left as it is.
* Historical: no referral is planned (:func:`caseapp.intake.services.record_historical`).
* All or nothing: every problem of the file is collected as (path, message) before anything
  is written; with any problem nothing is saved. The caller commits once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.core import codes, htcds
from caseapp.core.errors import ValidationFailed
from caseapp.exchange import htcds_schema
from caseapp.exchange.models import ExchangeRecord
from caseapp.extensions import db
from caseapp.intake import services as intake
from caseapp.screening.schema import ScreeningInput, parse_screening

SOURCE = "htcds"
_ISO639 = re.compile(r"^[a-z]{2,3}$")


@dataclass
class ImportResult:
    created: int = 0
    unchanged: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
            "dry_run": self.dry_run,
        }


def read_file(raw: bytes) -> Any:
    """The decoded JSON of a file; :class:`ValidationFailed` naming the problem if it is not
    UTF-8 JSON."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValidationFailed({"(file)": [f"not UTF-8 text (byte {exc.start})"]}) from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            {"(file)": [f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"]}
        ) from None


def import_cases(
    actor: Any, organization: Organization, document: Any, *, dry_run: bool = False
) -> ImportResult:
    """Import the cases of an HTCDS document into ``organization`` (never commits)."""
    result = ImportResult(dry_run=dry_run)
    result.errors.extend(htcds_schema.problems(document))
    if result.errors:
        return result
    known = set(
        db.session.scalars(
            sa.select(ExchangeRecord.source_case_id).where(
                ExchangeRecord.organization_id == organization.id,
                ExchangeRecord.source == SOURCE,
            )
        )
    )
    seen: dict[str, int] = {}
    todo: list[tuple[str, ScreeningInput, bool]] = []
    for i, case in enumerate(document["cases"]):
        where = f"cases[{i}]"
        source_id = case["CaseId"]
        if source_id in seen:
            result.errors.append((f"{where}.CaseId", f"duplicate: also cases[{seen[source_id]}]"))
            continue
        seen[source_id] = i
        payload, problems = request_of(case, where)
        result.errors.extend(problems)
        if problems:
            continue
        try:
            data = parse_screening(payload)
        except ValidationFailed as exc:
            prefix = f"{where}.ruta.screening" if "ruta" in case else where
            for name, messages in sorted(exc.fields.items()):
                for message in messages:
                    result.errors.append((f"{prefix}.{name}", message))
            continue
        if source_id in known:
            result.unchanged += 1
        else:
            todo.append((source_id, data, _closed(case)))
    if result.errors or dry_run:
        result.created = 0 if result.errors else len(todo)
        return result
    for source_id, data, closed in todo:
        screening = intake.record_historical(actor, data, closed=closed)
        db.session.add(
            ExchangeRecord(
                organization_id=organization.id,
                source=SOURCE,
                source_case_id=source_id,
                case_id=screening.case_id,
            )
        )
    result.created = len(todo)
    db.session.flush()
    audit.record(
        actor,
        "htcds.import",
        object_type="organization",
        object_id=organization.code,
        details={"created": result.created, "unchanged": result.unchanged},
    )
    return result


def _closed(case: dict[str, Any]) -> bool:
    """Whether the source had closed the case (the extension's status, else HTCDS Status)."""
    ruta = case.get("ruta") or {}
    if ruta.get("case_status") in ("open", "closed"):
        return bool(ruta["case_status"] == "closed")
    status = case.get("Status")
    return isinstance(status, str) and htcds.CASE_STATUS.ruta(status) == "closed"


# -- a case as the screening request -------------------------------------------------------


def request_of(case: dict[str, Any], where: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    if "ruta" in case:
        return case["ruta"]["screening"], []
    return _from_htcds(case, where)


def _reverse(
    crosswalk: htcds.Crosswalk, value: str | None, path: str, problems: list[tuple[str, str]]
) -> str | None:
    if value is None:
        return None
    try:
        return crosswalk.ruta(value)
    except KeyError:
        problems.append((path, f"unknown {crosswalk.htcds_field} value {value!r}"))
        return None


def _from_htcds(case: dict[str, Any], where: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A third-party HTCDS case read through the crosswalks; what HTCDS does not record
    (the acts and means of art. 129-A, the document) stays empty, never guessed."""
    problems: list[tuple[str, str]] = []
    person = case.get("Person") or {}
    victim = case.get("Victim") or {}
    if not case.get("IdentificationDate"):
        problems.append(
            (f"{where}.IdentificationDate", "required without the ruta extension (YYYY-MM-DD)")
        )
    gender = person.get("Gender")
    nationality = []
    for j, alpha2 in enumerate(person.get("Citizenship") or []):
        alpha3 = htcds.country_alpha3(alpha2)
        if alpha3 is None:
            problems.append((f"{where}.Person.Citizenship[{j}]", f"unknown country {alpha2!r}"))
        elif alpha3 not in nationality:
            nationality.append(alpha3)
    languages: list[str] = []
    for key in ("PrimaryLanguage", "SecondaryLanguage"):
        value = person.get(key)
        if value is None:
            continue
        if not _ISO639.match(value):
            problems.append((f"{where}.Person.{key}", f"not an ISO 639 code: {value!r}"))
            continue
        code = htcds.LANGUAGE.from_htcds.get(value) or "other"
        if code not in languages:
            languages.append(code)
    purposes: list[str] = []
    for value in victim.get("TypeOfExploitation") or []:
        if value == "Both":
            mapped = ["sexual_exploitation", "forced_labour"]
        else:
            one = htcds.TYPE_OF_EXPLOITATION.ruta(value)
            mapped = [one] if one else []
        purposes += [p for p in mapped if p not in purposes]
    indicators: list[str] = []
    for value in victim.get("MethodsOfControl") or []:
        indicator = htcds.METHODS_OF_CONTROL.ruta(value)
        if indicator and indicator not in indicators:
            indicators.append(indicator)
    recruitment = victim.get("MethodOfRecruitment") or []
    events = {e["Type"]: e for e in case.get("HistoricTraffickingEvents") or []}
    payload = {
        "identified_at": f"{case.get('IdentificationDate')}T12:00:00-05:00",
        "region": case.get("Region") or "unknown",
        "person": {
            "given_names": person.get("FirstName"),
            "family_names": person.get("SecondName"),
            "sex": htcds.SEX.ruta(gender) if gender else "unknown",
            "gender_identity": htcds.GENDER.ruta(gender) if gender else None,
            "date_of_birth": person.get("Birthdate"),
            "nationality": nationality,
            "languages": languages,
        },
        "acts": [],
        "means": [],
        "purposes": purposes,
        "indicators": indicators,
        "context": {
            "origin_region": _region_of(events.get("Recruitment")),
            "exploitation_region": _region_of(events.get("Exploitation")),
            "sector": htcds.FORCED_LABOUR_INDUSTRY.ruta(victim["ForcedLabourIndustry"])
            if victim.get("ForcedLabourIndustry")
            else None,
            "trafficker_relation": _reverse(
                htcds.RELATIONSHIP_TO_TRAFFICKER,
                victim.get("RelationshipToTrafficker"),
                f"{where}.Victim.RelationshipToTrafficker",
                problems,
            ),
            "recruitment_method": htcds.METHOD_OF_RECRUITMENT.ruta(recruitment[0])
            if recruitment
            else None,
        },
    }
    return payload, problems


_REGION_BY_NAME = {
    codes.REGION.label(c, "es").casefold(): c for c in codes.REGION.codes if c != "unknown"
}


def _region_of(event: dict[str, Any] | None) -> str | None:
    """The Ruta region of an event: abroad when outside Peru, the department whose name
    the State gives, else not known."""
    if event is None:
        return None
    if event.get("Country") and event["Country"] != "PE":
        return "abroad"
    state = (event.get("State") or "").strip().casefold()
    return _REGION_BY_NAME.get(state)
