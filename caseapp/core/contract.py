"""The request contract of /api/v1, declared once as pydantic v2 models (ADR 0018).

Every request body and query-parameter set is a :class:`Contract` model. The same model
validates the request (:func:`parse`), is the typed input the services read, and is the
OpenAPI schema (``caseapp.core.openapi`` renders ``model_json_schema``), so the document
can no longer drift from what the server accepts.

The field types below carry both halves of a rule: the Python check, written here so
the messages stay those of api.md §3 (``unknown code 'x' (see codes.md: sex)``, ``at most
200 characters``…), and the JSON schema fragment that says the same thing (code lists
from :mod:`caseapp.core.codes`, lengths, patterns, and no NUL characters in any text).
Errors become :class:`ValidationFailed` with one entry per field path (``person.sex``,
``acts[2]``), every problem listed, nothing saved.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from caseapp.core import codes
from caseapp.core.api import MAX_PAGE, MAX_PER_PAGE
from caseapp.core.errors import ValidationFailed

#: No text in Ruta may contain U+0000 (PostgreSQL cannot store it): refused everywhere
#: (``caseapp.web.safety`` checks the raw request; the models check their own fields).
NUL = "\x00"
NUL_MESSAGE = "must not contain NUL characters (U+0000)"
#: JSON schema pattern (ECMA 262 and Python ``re`` read it alike) of a string with no NUL.
NO_NUL = "^[^\\x00]*$"

#: Nothing Ruta records (identification, admission, discharge) happened before this. Older
#: values are typing errors; year-1 values overflowed when converted to UTC for storage
#: (a 500 found by fuzzing) and pre-1908 Lima offsets are not whole minutes.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
EARLIEST_DATE = date(2000, 1, 1)
CLOCK_SKEW = timedelta(minutes=10)


def _years(first: int, last: int) -> str:
    return "(?:" + "|".join(str(y) for y in range(first, last + 1)) + ")"


def calendar_pattern(first_year: int, last_year: int) -> str:
    """A regex of the calendar dates ``YYYY-MM-DD`` of ``first_year``..``last_year`` (no
    30 February, 29 February in leap years only): JSON schema cannot compare dates, so a
    document states ranges that are always valid this way."""
    leap = [y for y in range(first_year, last_year + 1) if y % 4 == 0 and (y % 100 or y % 400 == 0)]
    years = _years(first_year, last_year)
    common = (
        f"{years}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
        "|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
    )
    if leap:
        common = f"(?:{common}|(?:{'|'.join(map(str, leap))})-02-29)"
    return common


def date_pattern(first_year: int, last_year: int) -> str:
    return f"^{calendar_pattern(first_year, last_year)}$"


def datetime_pattern(first_year: int, last_year: int) -> str:
    """ISO 8601 date-times with an offset (seconds optional), of ``first_year``..``last_year``."""
    return (
        f"^{calendar_pattern(first_year, last_year)}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]"
        "(?::[0-5][0-9](?:[.][0-9]+)?)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
    )


#: What the server reads as a date-time: ISO 8601 extended format with an offset, seconds
#: optional (Python's ``fromisoformat`` alone would also take the basic format and more).
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The documented range of past date-times: from 2001 (2000-01-01 with a positive offset
#: is still 1999 in UTC) to last year, always valid whatever the clock says; the server
#: takes any instant from 2000 to now.
PAST_YEARS = (2001, date.today().year - 1)


M = TypeVar("M", bound=BaseModel)


class Contract(BaseModel):
    """A request body or query: closed (unknown fields are a 422, api.md §3)."""

    model_config = ConfigDict(
        extra="forbid",
        hide_input_in_errors=True,
        validate_default=False,
    )


class Query(Contract):
    """A set of query parameters (``?a=1&b=x``): values are text, blank = not given."""

    unknown_message: ClassVar[str] = "unknown parameter"


class Shape(BaseModel):
    """A response body, declared for the OpenAPI document only (serializers build dicts)."""

    model_config = ConfigDict(extra="allow")


class Problems(ValueError):
    """Problems found by a validator, keyed by path relative to the value it checked
    (``""`` the value itself, ``"number"`` a field of it, ``"[2]"`` an item)."""

    def __init__(self, fields: Mapping[str, str | Sequence[str]]) -> None:
        self.fields = {k: [v] if isinstance(v, str) else list(v) for k, v in fields.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.fields.items()))


def problem(message: str) -> PydanticCustomError:
    """An error whose message is shown as is (no pydantic wording)."""
    return PydanticCustomError("ruta", "{message}", {"message": message})


# -- errors -> api.md §3 ---------------------------------------------------------------------

_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    if part.startswith("["):
        return path + part
    return f"{path}.{part}" if path else part


def field_errors(
    exc: ValidationError, prefix: str = "", unknown: str = "unknown field"
) -> dict[str, list[str]]:
    """The api.md §3 ``fields`` of a pydantic error: path -> messages, in input order."""
    out: dict[str, list[str]] = {}
    for error in exc.errors(include_url=False, include_input=False):
        path = prefix
        for part in error["loc"]:
            path = _join(path, part)
        ctx = error.get("ctx") or {}
        cause = ctx.get("error")
        if isinstance(cause, Problems):
            for rel, messages in cause.fields.items():
                out.setdefault(_join(path, rel) if rel else path or "$", []).extend(messages)
            continue
        if error["type"] == "ruta":
            message = str(ctx.get("message", error["msg"]))
        elif error["type"] == "value_error" and cause is not None:
            message = str(cause)
        elif error["type"] == "extra_forbidden":
            message = unknown
        else:
            message = _MESSAGES.get(error["type"], error["msg"])
        out.setdefault(path or "$", []).append(message)
    return out


def parse(model: type[M], data: Any, **context: Any) -> M:
    """Validate ``data`` (a decoded JSON body or a query dict) as ``model``; raise
    :class:`ValidationFailed` naming every bad field. ``context`` reaches the validators
    (e.g. ``now``)."""
    try:
        return model.model_validate(data, context=context or None)
    except ValidationError as exc:
        unknown = getattr(model, "unknown_message", "unknown field")
        raise ValidationFailed(field_errors(exc, unknown=unknown)) from None


def query_args(args: Any) -> dict[str, Any]:
    """A query string as the dict a query model validates: a parameter given twice is a
    list, which no query field accepts (``per_page=1&per_page=2`` is a 422)."""
    out: dict[str, Any] = {}
    for key in args:
        values = args.getlist(key) if hasattr(args, "getlist") else [args[key]]
        out[key] = values[0] if len(values) == 1 else values
    return out


def now_of(info: Any) -> datetime:
    """The ``now`` of the validation context, else the current time."""
    context = getattr(info, "context", None) or {}
    return context.get("now") or datetime.now(UTC)


# -- field types -----------------------------------------------------------------------------


class Rule:
    """Field metadata (``Annotated[str, Rule(...)]``): a plain validator written here, with
    the api.md messages, and the JSON schema fragment that states the same rule."""

    __slots__ = ("check", "kind", "schema")

    def __init__(
        self,
        check: Callable[[Any], Any],
        schema: dict[str, Any] | Callable[[], dict[str, Any]],
        kind: str = "",
    ) -> None:
        self.check = check
        self.schema = schema
        #: what a form input gives for it: text, code, codes, flag, tri, number, date,
        #: datetime (``caseapp.intake.forms`` builds request bodies from the models)
        self.kind = kind

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return copy.deepcopy(self.schema() if callable(self.schema) else self.schema)


def _nullable(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    if not nullable:
        return schema
    kind = schema.get("type")
    out = dict(schema)
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


def code_values(list_name: str, extra: Iterable[str] = ()) -> list[str]:
    return [*codes.get(list_name).codes, *extra]


def Code(
    list_name: str,
    *,
    nullable: bool = False,
    null: str | None = None,
    extra: tuple[str, ...] = (),
    null_message: str = "required",
    message: str | None = None,
    description: str | None = None,
) -> Rule:
    """A code of ``caseapp.core.codes`` list ``list_name`` (the single source of code lists).

    ``nullable``: ``null`` is accepted and read as ``null`` (the value); otherwise ``null``
    is refused with ``null_message``. ``message``: the refusal text (``{value!r}`` is
    substituted); by default ``unknown code 'x' (see codes.md: list)``."""
    allowed = frozenset(extra)

    def check(value: Any) -> str | None:
        if value is None:
            if nullable:
                return null
            raise problem(null_message)
        if not isinstance(value, str) or (
            value not in codes.get(list_name) and value not in allowed
        ):
            text = message.format(value=value) if message else None
            raise problem(text or f"unknown code {value!r} (see codes.md: {list_name})")
        return value

    def schema() -> dict[str, Any]:
        out = _nullable({"type": "string", "enum": code_values(list_name, extra)}, nullable)
        if description:
            out["description"] = description
        return out

    return Rule(check, schema, "code")


def Codes(list_name: str, *, extra: tuple[str, ...] = (), description: str | None = None) -> Rule:
    """A list of codes (``null`` = empty); duplicates dropped, order kept; each bad item
    is named by its index (``acts[2]``)."""
    allowed = frozenset(extra)

    def check(value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise problem("must be a list of codes")
        valid = codes.get(list_name)
        out: list[str] = []
        bad: dict[str, str] = {}
        for i, item in enumerate(value):
            if not isinstance(item, str) or (item not in valid and item not in allowed):
                bad[f"[{i}]"] = f"unknown code {item!r} (see codes.md: {list_name})"
            elif item not in out:
                out.append(item)
        if bad:
            raise Problems(bad)
        return tuple(out)

    def schema() -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": ["array", "null"],
            "items": {"type": "string", "enum": code_values(list_name, extra)},
        }
        if description:
            out["description"] = description
        return out

    return Rule(check, schema, "codes")


def text_schema(
    max_len: int, nullable: bool, min_len: int = 0, description: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["string", "null"] if nullable else "string"}
    if min_len:
        out["minLength"] = min_len
        # at least min_len characters between the first and last non-space character
        if min_len == 1:
            out["pattern"] = "^[^\\x00]*?[^\\s\\x00][^\\x00]*$"
        else:
            middle = min_len - 2
            out["pattern"] = f"^[^\\x00]*?[^\\s\\x00][^\\x00]{{{middle},}}[^\\s\\x00][^\\x00]*$"
    else:
        out["pattern"] = NO_NUL
    out["maxLength"] = max_len
    if description:
        out["description"] = description
    return out


def Text(
    max_len: int,
    *,
    nullable: bool = True,
    not_text: str = "must be text",
    too_long: str | None = None,
    description: str | None = None,
) -> Rule:
    """Free text of at most ``max_len`` characters, kept stripped; blank is ``None``."""

    def check(value: Any) -> str | None:
        if value is None:
            if nullable:
                return None
            raise problem(not_text)
        if not isinstance(value, str):
            raise problem(not_text)
        if NUL in value:
            raise problem(NUL_MESSAGE)
        if len(value) > max_len:
            raise problem(too_long or f"at most {max_len} characters")
        return value.strip() or None

    return Rule(check, text_schema(max_len, nullable, description=description), "text")


def Explanation(
    min_len: int,
    max_len: int,
    *,
    message: str,
    too_long: str | None = None,
    nullable: bool = False,
    description: str | None = None,
) -> Rule:
    """Text with at least ``min_len`` characters besides surrounding spaces (a
    justification, a reason); kept as sent. ``nullable``: ``null`` = not given."""
    schema = text_schema(max_len, nullable, min_len, description)
    pattern = re.compile(schema["pattern"])

    def check(value: Any) -> str | None:
        if value is None and nullable:
            return None
        if not isinstance(value, str):
            raise problem(message)
        if NUL in value:
            raise problem(NUL_MESSAGE)
        if not pattern.search(value):
            raise problem(message)
        if len(value) > max_len:
            raise problem(too_long or f"at most {max_len} characters")
        return value

    return Rule(check, schema, "text")


def Identifier(message: str, *, description: str | None = None) -> Rule:
    """Any text naming an object (its existence is the service's business: 404)."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise problem(message)
        if NUL in value:
            raise problem(NUL_MESSAGE)
        return value

    schema: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
    if description:
        schema["description"] = description
    return Rule(check, schema, "text")


def Flag(*, nullable: bool = False, message: str | None = None) -> Rule:
    """``true`` or ``false`` (no 0/1, no strings); ``nullable``: ``null`` too (unknown)."""
    message = message or "must be true or false" + (" or null" if nullable else "")

    def check(value: Any) -> bool | None:
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            raise problem(message)
        return value

    schema = {"type": ["boolean", "null"] if nullable else "boolean"}
    return Rule(check, schema, "tri" if nullable else "flag")


def _whole(value: Any) -> int | None:
    """An integer, or ``None``: booleans and text are not numbers; ``16.0`` is ``16`` (JSON
    and its schema do not tell them apart), ``16.5`` is not whole."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def WholeNumber(lo: int, hi: int, *, nullable: bool = True, message: str | None = None) -> Rule:
    """An integer from ``lo`` to ``hi`` (no booleans, no strings, no fractions)."""
    text = message or f"must be a whole number from {lo} to {hi}"

    def check(value: Any) -> int | None:
        if value is None and nullable:
            return None
        value = _whole(value)
        if value is None or not lo <= value <= hi:
            raise problem(text)
        return value

    schema = {"type": ["integer", "null"] if nullable else "integer", "minimum": lo, "maximum": hi}
    return Rule(check, schema, "number")


def Integer(message: str) -> Rule:
    """Any integer (no booleans, no strings, no fractions)."""

    def check(value: Any) -> int:
        whole = _whole(value)
        if whole is None:
            raise problem(message)
        return whole

    return Rule(check, {"type": "integer"}, "number")


def parse_datetime(value: str) -> datetime:
    """An RFC 3339 date-time with offset, not before 2000; ``ValueError`` otherwise."""
    if not _DATE_TIME.fullmatch(value):
        raise ValueError("not RFC 3339")
    parsed = datetime.fromisoformat(value.upper())
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    if parsed < EARLIEST:
        raise ValueError("before 2000")
    return parsed


def parse_date(value: str) -> date:
    """A date ``YYYY-MM-DD``; ``ValueError`` otherwise."""
    if not _DATE.fullmatch(value):
        raise ValueError("not YYYY-MM-DD")
    return date.fromisoformat(value)


def DateTime(
    *,
    what: str = "a date-time with offset",
    description: str | None = None,
    years: tuple[int, int] = PAST_YEARS,
) -> Rule:
    """A date-time with offset (ISO 8601, seconds optional), from 2000 on; ``null`` = not
    given. The document's pattern states ``years``, which are valid whatever the clock."""

    def check(value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value  # built in Python (CLI, synthetic data), not decoded from JSON
        try:
            if not isinstance(value, str):
                raise ValueError("not text")
            return parse_datetime(value)
        except ValueError:
            raise problem(f"must be {what}") from None

    schema: dict[str, Any] = {
        "type": ["string", "null"],
        "pattern": datetime_pattern(*years),
        "description": "ISO 8601 with offset, e.g. 2026-03-14T22:30:00-05:00"
        + (f"; {description}" if description else ""),
    }
    return Rule(check, schema, "datetime")


def Date(*, years: tuple[int, int], nullable: bool = True, description: str | None = None) -> Rule:
    """A date ``YYYY-MM-DD``; ``years``: the range the document states (always valid)."""

    def check(value: Any) -> date | None:
        if value is None and nullable:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            if not isinstance(value, str):
                raise ValueError("not text")
            return parse_date(value)
        except ValueError:
            raise problem("must be a date YYYY-MM-DD") from None

    schema: dict[str, Any] = {
        "type": ["string", "null"] if nullable else "string",
        "format": "date",
        "pattern": date_pattern(*years),
    }
    if description:
        schema["description"] = description
    return Rule(check, schema, "date")


# -- query parameters ------------------------------------------------------------------------
# A query value is text; an empty value means "not given" (HTML filter forms send them).


def QueryCode(
    list_name: str,
    *,
    values: Sequence[str] | None = None,
    message: str | None = None,
    default: str | None = None,
    blank: bool = True,
    description: str | None = None,
) -> Rule:
    """A code given as a query parameter; ``blank``: ``""`` = not given (``default``)."""
    choices = tuple(values) if values is not None else None

    def check(value: Any) -> str | None:
        if value is None or (blank and value == ""):
            return default
        valid = choices if choices is not None else codes.get(list_name)
        if not isinstance(value, str) or value not in valid:
            raise problem(message.format(value=value) if message else f"unknown code {value!r}")
        return value

    def schema() -> dict[str, Any]:
        listed = list(choices) if choices is not None else code_values(list_name)
        out: dict[str, Any] = {"type": "string", "enum": [*listed, ""] if blank else listed}
        if description:
            out["description"] = description
        return out

    return Rule(check, schema, "query")


def comma_list_pattern(
    values: Sequence[str],
    *,
    min_items: int = 1,
    max_items: int | None = None,
    unique: bool = False,
) -> str:
    """The regex of a comma list of ``values`` (or an empty text): what JSON schema can say
    of ``?by=region,sex`` -- how many, and (a lookahead) none twice."""
    one = "(?:" + "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)) + ")"
    low = max(min_items - 1, 0)
    more = f"{{{low},}}" if max_items is None else f"{{{low},{max_items - 1}}}"
    no_repeat = f"(?!.*\\b({one})\\b.*\\b\\1\\b)" if unique else ""
    return f"^{no_repeat}(?:{one}(?:,{one}){more})?$"


def QueryList(
    values: Callable[[], Sequence[str]],
    *,
    unknown: Callable[[list[str]], str],
    min_items: int = 1,
    max_items: int | None = None,
    unique: bool = False,
    noun: str = "dimension",
    description: str | None = None,
) -> Rule:
    """A comma list (``?by=region,sex``) of the given values, exactly (no spaces, no empty
    items); ``""`` is the empty list; ``None`` when not given (the caller's default)."""

    def check(value: Any) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise problem("must be given once")
        parts = tuple(value.split(",")) if value else ()
        bad = [part for part in parts if part not in values()]
        if bad:
            raise problem(unknown(bad))
        too_many = max_items is not None and len(parts) > max_items
        if too_many and noun == "dimension":
            raise problem(f"at most {max_items} dimensions")
        if unique and len(set(parts)) != len(parts):
            raise problem(f"a {noun} is repeated")
        if parts and len(parts) < min_items:
            raise problem(f"choose at least {min_items} {noun}s")
        if too_many:
            raise problem(f"choose at most {max_items} {noun}s")
        return parts

    def schema() -> dict[str, Any]:
        pattern = comma_list_pattern(
            values(), min_items=min_items, max_items=max_items, unique=unique
        )
        out: dict[str, Any] = {"type": "string", "pattern": pattern}
        if description:
            out["description"] = description
        return out

    return Rule(check, schema, "query")


def QueryDate(*, years: tuple[int, int], description: str | None = None) -> Rule:
    """A date ``YYYY-MM-DD`` given as a query parameter (``""`` = not given), from 2000 to a
    year from today. ``years``: the range the document states (always valid)."""

    def check(value: Any) -> date | None:
        if value is None or value == "":
            return None
        try:
            if not isinstance(value, str):
                raise ValueError("not text")
            parsed = parse_date(value)
        except ValueError:
            raise problem("must be a date YYYY-MM-DD") from None
        if not EARLIEST_DATE <= parsed <= date.today() + timedelta(days=366):
            raise problem("must be between 2000-01-01 and one year from today")
        return parsed

    schema: dict[str, Any] = {
        "type": "string",
        "pattern": f"^(?:{calendar_pattern(*years)})?$",
    }
    if description:
        schema["description"] = description
    return Rule(check, schema, "query")


def QueryBool(*, message: str = "must be true or false") -> Rule:
    """``true``/``false``/``1``/``0`` (any case) as a query parameter; blank = false."""

    def check(value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value  # built in Python (a page's own filter), not read from a URL
        if not isinstance(value, str) or value.lower() not in ("true", "false", "1", "0", ""):
            raise problem(message)
        return value.lower() in ("true", "1")

    schema = {"type": "string", "pattern": "^(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$"}
    return Rule(check, schema, "query")


def Given(rule: Rule, message: str = "must be a string") -> Rule:
    """A query rule for a JSON body field that carries the same text (``""`` = not given,
    ``null`` and non-text refused)."""

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise problem(message)
        return rule.check(value)

    return Rule(check, rule.schema, rule.kind)


def QueryInt(lo: int, hi: int, *, message: str) -> Rule:
    """A whole number given as a query parameter (decimal digits only)."""

    def check(value: Any) -> int | None:
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]+", value):
            raise problem(message)
        number = int(value)
        if not lo <= number <= hi:
            raise problem(message)
        return number

    return Rule(check, {"type": "integer", "minimum": lo, "maximum": hi}, "query")


def QueryText(max_len: int, *, description: str | None = None) -> Rule:
    """Free text given as a query parameter, stripped (blank = not given)."""

    def check(value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise problem("must be given once")
        if NUL in value:
            raise problem(NUL_MESSAGE)
        if len(value) > max_len:
            raise problem(f"at most {max_len} characters")
        return value.strip() or None

    return Rule(check, text_schema(max_len, False, description=description), "query")


class Paged(Query):
    """``?page=`` and ``?per_page=`` of a list endpoint (api.md §3)."""

    page: Annotated[
        int, QueryInt(1, MAX_PAGE, message=f"must be an integer from 1 to {MAX_PAGE}")
    ] = 1
    per_page: Annotated[
        int, QueryInt(1, MAX_PER_PAGE, message=f"must be an integer from 1 to {MAX_PER_PAGE}")
    ] = 20
