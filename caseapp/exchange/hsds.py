"""The service directory as Open Referral HSDS 3.0 (docs/exchange.md).

Export: ``{"hsds_version": "3.0", "organizations": [...], "services": [...]}``, each object
valid against HSDS 3.0's published JSON schema (vendored in ``schemas/hsds-3.0``). What
HSDS has a field for goes there (names, ages, languages, status); Ruta's codes and
eligibility rules go in HSDS ``attributes`` with taxonomy terms of the ``ruta`` taxonomies
(``ruta:service_type``, ``ruta:org_kind``, ``ruta:region``, ``ruta:eligibility``, …), so a
Ruta-to-Ruta round trip is exact and another system still reads plain HSDS.

Import: the file is validated against the same schema, turned into the rows of the
directory loader (:func:`caseapp.directory.services.load_directory`, the loader of
``flask seed --directory``) and loaded all or nothing. Identifiers are stable: an
organization's HSDS id is its Ruta UUID, a service's is derived from it and its type.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import sqlalchemy as sa
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.core import codes
from caseapp.directory import services as directory
from caseapp.directory.models import Service
from caseapp.extensions import db

HSDS_VERSION = "3.0"
SCHEMA_DIR = "schemas/hsds-3.0"
VENDORED = ("organization", "service", "location", "language", "attribute", "taxonomy_term")
NAMESPACE = uuid.UUID("6f1c3b8e-2a59-4d7e-9a51-6b0d1f2e7c44")  # Ruta's HSDS ids
TAXONOMY_PREFIX = "ruta:"

#: link_type of each Ruta attribute (an open code list in HSDS)
LINK_TYPES = {
    "service_type": "classification",
    "org_kind": "classification",
    "code": "identifier",
    "region": "location",
    "city": "location",
    "sexes": "eligibility",
    "accepts_transgender": "eligibility",
    "accepts_foreign": "eligibility",
    "nationalities": "eligibility",
    "serves": "eligibility",
    "capacity": "capacity",
    "hours": "schedule",
}
ORG_ATTRIBUTES = ("code", "org_kind", "region", "city")
SERVICE_ATTRIBUTES = (
    "service_type",
    "sexes",
    "accepts_transgender",
    "accepts_foreign",
    "nationalities",
    "serves",
    "capacity",
    "hours",
)


# -- schema ------------------------------------------------------------------------------------


def _schema_text(name: str) -> str:
    return (
        resources.files("caseapp.exchange")
        .joinpath(SCHEMA_DIR, f"{name}.json")
        .read_text(encoding="utf-8")
    )


def _retrieve(uri: str) -> Resource:
    name = uri.rsplit("/", 1)[-1].removesuffix(".json")
    if name not in VENDORED:
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs class
    # HSDS's files name no JSON Schema draft: read them as 2020-12
    return DRAFT202012.create_resource(json.loads(_schema_text(name)))


@cache
def validators() -> dict[str, Draft202012Validator]:
    """One validator per HSDS object Ruta writes, resolving ``$ref`` among the vendored
    files (HSDS's schemas name no draft; 2020-12 reads them as written)."""
    registry: Registry = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    out = {}
    for name in ("organization", "service"):
        schema = json.loads(_schema_text(name))
        schema["$id"] = f"{name}.json"
        out[name] = Draft202012Validator(schema, registry=registry)
    return out


def problems(document: Any) -> Iterator[tuple[str, str]]:
    """Every problem of an HSDS directory file as (path, message)."""
    if not isinstance(document, dict):
        yield "(file)", "must be a JSON object with organizations and services"
        return
    for key in ("organizations", "services"):
        if not isinstance(document.get(key), list):
            yield key, "required: a list"
    if any(not isinstance(document.get(k), list) for k in ("organizations", "services")):
        return
    for key, kind in (("organizations", "organization"), ("services", "service")):
        for i, item in enumerate(document[key]):
            yield from _object_problems(kind, item, f"{key}[{i}]")


@cache
def _unread(kind: str) -> dict[str, str]:
    """The properties of an HSDS object that are other, unvendored HSDS objects."""
    out = {}
    for name, prop in json.loads(_schema_text(kind))["properties"].items():
        ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
        if ref and ref.removesuffix(".json") not in VENDORED:
            out[name] = ref.removesuffix(".json")
    return out


def _object_problems(kind: str, item: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(item, dict):
        for name, ref in _unread(kind).items():
            if name in item:
                yield f"{where}.{name}", f"HSDS object {ref!r} is not read by Ruta's import"
        item = {k: v for k, v in item.items() if k not in _unread(kind)}
    try:
        errors = sorted(validators()[kind].iter_errors(item), key=lambda e: list(map(str, e.path)))
    except Unresolvable as exc:
        ref = str(getattr(exc, "ref", "")).removesuffix(".json")
        yield where, f"HSDS object {ref!r} is not read by Ruta's import"
        return
    for error in errors:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        yield f"{where}{path}", error.message


# -- export ------------------------------------------------------------------------------------


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(parts)))


def _attribute(link_id: str, entity: str, name: str, value: Any) -> dict[str, Any]:
    """An HSDS attribute: a term of the ``ruta:<name>`` taxonomy, with its value."""
    text = _value_text(value)
    if name in ("service_type", "org_kind"):
        term_code = f"{TAXONOMY_PREFIX}{name}:{value}"
        label = codes.get(name).label(value, "en")
    elif name == "region":
        term_code = f"{TAXONOMY_PREFIX}region:{value}"
        label = codes.REGION.label(value, "es") if value in codes.REGION else value
    else:
        term_code = f"{TAXONOMY_PREFIX}{name}"
        label = name.replace("_", " ")
    return {
        "id": _id(link_id, term_code),
        "link_id": link_id,
        "link_type": LINK_TYPES[name],
        "link_entity": entity,
        "taxonomy_term_id": _id(term_code),
        "value": text,
        "taxonomy_term": {
            "id": _id(term_code),
            "code": term_code,
            "name": label,
            "description": f"Ruta {name.replace('_', ' ')} (docs/exchange.md)",
        },
    }


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return "" if value is None else str(value)


def organization_json(org: Organization) -> dict[str, Any]:
    values = {
        "code": org.code,
        "org_kind": org.org_kind,
        "region": org.region_code,
        "city": org.city,
    }
    region = codes.REGION.label(org.region_code, "es") if org.region_code in codes.REGION else ""
    place = ", ".join(p for p in (org.city, region, "Perú") if p)
    return {
        "id": org.uuid,
        "name": org.name,
        "description": org.notes or org.name,
        # where it works, for HSDS readers (Ruta keeps no street address or coordinates;
        # the region and city it reads back are the attributes below)
        "locations": [
            {
                "id": _id(org.uuid, "location"),
                "location_type": "physical",
                "organization_id": org.uuid,
                "name": org.city or region or org.name,
                "description": place,
            }
        ],
        "attributes": [_attribute(org.uuid, "organization", k, values[k]) for k in ORG_ATTRIBUTES],
    }


def _eligibility_text(service: Service) -> str:
    parts = [f"ages {service.min_age}–{service.max_age}"]
    parts.append({"F": "women and girls", "M": "men and boys"}.get(service.sexes, "any sex"))
    if not service.accepts_transgender:
        parts.append("does not accept transgender persons")
    if not service.accepts_foreign:
        parts.append("nationals only")
    if service.nationalities:
        parts.append("nationalities: " + ", ".join(service.nationalities))
    if service.serves:
        parts.append("dedicated to: " + ", ".join(service.serves))
    return "; ".join(parts)


def service_json(service: Service) -> dict[str, Any]:
    org = service.organization
    sid = _id(org.uuid, service.service_type)
    label = codes.SERVICE_TYPE[service.service_type]
    values = {
        "service_type": service.service_type,
        "sexes": service.sexes,
        "accepts_transgender": service.accepts_transgender,
        "accepts_foreign": service.accepts_foreign,
        "nationalities": list(service.nationalities or []),
        "serves": list(service.serves or []),
        "capacity": service.capacity,
        "hours": service.hours,
    }
    return {
        "id": sid,
        "organization_id": org.uuid,
        "name": f"{org.name} — {label.es}",
        "alternate_name": label.en,
        "description": label.es,
        "status": "active" if service.is_active and org.is_active else "inactive",
        "eligibility_description": _eligibility_text(service),
        "minimum_age": service.min_age,
        "maximum_age": service.max_age,
        "languages": [
            {
                "id": _id(sid, "language", code),
                "service_id": sid,
                "name": codes.LANGUAGE.label(code, "en") if code in codes.LANGUAGE else code,
                "code": code,
            }
            for code in service.languages or []
        ],
        "attributes": [_attribute(sid, "service", k, values[k]) for k in SERVICE_ATTRIBUTES],
    }


def export_directory(actor: Any = None) -> dict[str, Any]:
    """Every organization and service of the directory, in code order."""
    orgs = list(db.session.scalars(sa.select(Organization).order_by(Organization.code)))
    services = list(
        db.session.scalars(
            sa.select(Service)
            .join(Organization, Service.organization_id == Organization.id)
            .order_by(Organization.code, Service.service_type)
        )
    )
    if actor is not None:
        audit.record(actor, "directory.export", object_type="directory", details={"format": "hsds"})
    return {
        "hsds_version": HSDS_VERSION,
        "organizations": [organization_json(o) for o in orgs if o.services],
        "services": [service_json(s) for s in services],
    }


# -- import ------------------------------------------------------------------------------------


class ImportResult:
    def __init__(self) -> None:
        self.created = 0
        self.updated = 0
        self.errors: list[tuple[str, str]] = []

    def summary(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "errors": len(self.errors)}


def _ruta_attributes(obj: dict[str, Any]) -> dict[str, str]:
    """The Ruta attributes of an HSDS object: name → value (codes from the term code)."""
    out: dict[str, str] = {}
    for attr in obj.get("attributes") or []:
        term = (attr.get("taxonomy_term") or {}).get("code") or ""
        if not term.startswith(TAXONOMY_PREFIX):
            continue
        name, _, code = term.removeprefix(TAXONOMY_PREFIX).partition(":")
        out[name] = code if code else (attr.get("value") or "")
    return out


def rows_of(document: dict[str, Any]) -> tuple[list[dict[str, str]], list[tuple[str, str]]]:
    """The directory rows (one per service, as ``directory.csv`` has them) of an HSDS file,
    and the problems that keep one from being made."""
    problems: list[tuple[str, str]] = []
    orgs: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, org in enumerate(document["organizations"]):
        if org["id"] in orgs:
            problems.append((f"organizations[{i}].id", "duplicate id"))
        orgs[org["id"]] = (i, org)
    rows = []
    for j, service in enumerate(document["services"]):
        where = f"services[{j}]"
        found = orgs.get(service.get("organization_id") or "")
        if found is None:
            problems.append((f"{where}.organization_id", "names no organization of the file"))
            continue
        i, org = found
        o, s = _ruta_attributes(org), _ruta_attributes(service)
        for name in ("code", "org_kind", "region"):
            if not o.get(name):
                problems.append((f"organizations[{i}].attributes", f"no ruta:{name} attribute"))
        if not s.get("service_type"):
            problems.append((f"{where}.attributes", "no ruta:service_type attribute"))
        languages = [lang.get("code") or "" for lang in service.get("languages") or []]
        rows.append(
            {
                "line": where,
                "code": o.get("code", ""),
                "name": org.get("name", ""),
                "service_type": s.get("service_type", ""),
                "org_kind": o.get("org_kind", ""),
                "region": o.get("region", ""),
                "city": o.get("city", ""),
                "min_age": _int_text(service.get("minimum_age"), "0"),
                "max_age": _int_text(service.get("maximum_age"), "120"),
                "sexes": s.get("sexes", "any"),
                "accepts_transgender": s.get("accepts_transgender", "true"),
                "accepts_foreign": s.get("accepts_foreign", "true"),
                "capacity": s.get("capacity", ""),
                "hours": s.get("hours", "24/7"),
                "languages": ";".join(languages),
                "nationalities": s.get("nationalities", ""),
                "serves": s.get("serves", ""),
                "notes": "" if org.get("description") == org.get("name") else org["description"],
                "status": service.get("status", "active"),
                "organization_id": org["id"],
            }
        )
    return rows, problems


def _int_text(value: Any, default: str) -> str:
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def import_directory(actor: Any, document: Any, *, dry_run: bool = False) -> ImportResult:
    """Load an HSDS directory file, all or nothing. Never commits: the caller commits,
    or rolls back when there are errors or on a dry run (the loader has written then)."""
    result = ImportResult()
    result.errors.extend(problems(document))
    if result.errors:
        return result
    rows, row_problems = rows_of(document)
    result.errors.extend(row_problems)
    if result.errors:
        return result
    existing = set(db.session.scalars(sa.select(Organization.code)))
    loaded = directory.load_directory(actor, rows)
    for line, fields in sorted(loaded.errors.items()):
        where = rows[line - 2]["line"]
        for name, messages in fields.items():
            result.errors.extend((f"{where} ({name})", str(m)) for m in messages)
    if result.errors:
        return result  # load_directory saved nothing
    codes_in_file = {r["code"] for r in rows}
    result.created = len(codes_in_file - existing)
    result.updated = len(codes_in_file & existing)
    if not dry_run:
        _keep_identity(rows, existing)
    return result


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _keep_identity(rows: list[dict[str, str]], existing: set[str]) -> None:
    """New organizations keep their HSDS id as UUID (so a re-export is the same file);
    services marked inactive stay inactive."""
    by_code = {o.code: o for o in db.session.scalars(sa.select(Organization))}
    taken = {o.uuid for o in by_code.values()}
    for row in rows:
        org = by_code[row["code"]]
        if (
            row["code"] not in existing
            and org.uuid != row["organization_id"]
            and row["organization_id"] not in taken
            and _is_uuid(row["organization_id"])
        ):
            taken.discard(org.uuid)
            org.uuid = row["organization_id"]
            taken.add(org.uuid)
        if row["status"] != "active":
            service = db.session.scalar(
                sa.select(Service).where(
                    Service.organization_id == org.id, Service.service_type == row["service_type"]
                )
            )
            if service is not None:
                service.is_active = False
    db.session.flush()
