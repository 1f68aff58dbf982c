"""One error envelope for the whole API, friendly pages for browsers.

Domain code in every package raises `Refusal(code, message, status)`; this module is the one
place that turns a refusal, and Litestar's own exceptions, into `{"error": {"code",
"message"}}` (`ErrorBody`) or an HTML page, and that says so in the OpenAPI document
(`error_responses`).
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

import msgspec
import sqlalchemy.exc
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from consent.base import i18n
from consent.base.i18n import N_, ngettext
from consent.base.i18n import gettext as _
from consent.base.labels import field_label

log = logging.getLogger("consent")

_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
}


# Litestar's terse defaults, said the way a person would.
_FRIENDLY = {
    "Not Found": N_("There is nothing at this address, or it is not visible to you."),
    "Method Not Allowed": N_("This address does not accept that kind of request."),
}


class ErrorDetail(msgspec.Struct, omit_defaults=True):
    code: str  # for programs: API.md names them
    message: str  # for people: a sentence that names the field as the forms label it
    field: str | None = None  # the field refused, as the body or query names it (`criteria[1]`)


class ErrorBody(msgspec.Struct):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


# What each error status means to a caller, for the OpenAPI document.
_MEANINGS = {
    400: "The body or a parameter could not be read (code `invalid`; the message names the field, and `field` gives it).",
    401: "Not signed in, or the bearer token is not valid (code `not_signed_in`).",
    403: "Not allowed to do this (a code such as `forbidden`, `not_allowed`, `not_a_member`), or, in a browser "
    "session, the CSRF token was missing (`csrf_failed`).",
    404: "No such thing, or it is not visible to you (code `not_found`).",
    409: "It conflicts with what is already there (a code such as `conflict`, `email_taken`, `not_in_force`).",
    415: "The body must be sent as application/json (code `unsupported_media_type`).",
    422: "The rules refuse it; the message says why (code `invalid` or a more precise one).",
    429: "Too many sign-ups or failed sign-ins; `Retry-After` says how many seconds to wait (code `too_many_requests`).",
}


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """A route handler's `responses=`: the error statuses it may answer, each with `ErrorBody`.
    Listing 400 also replaces the body Litestar documents for its validation errors, which
    `handle_exception` never sends."""
    return {
        status: ResponseSpec(data_container=ErrorBody, description=_MEANINGS[status], generate_examples=False)
        for status in statuses
    }


class Refusal(Exception):
    """What the rules will not do, and why: `code` for programs (API.md names them), the
    message for people, `status` for HTTP. Raised by the state machine, rules and services;
    it changed nothing."""

    def __init__(self, code: str, message: str, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.status, self.field = code, status, field

    @property
    def message(self) -> str:
        return str(self)


def bad_field(field: str, says: str, code: str = "invalid", status: int = 422) -> Refusal:
    """A refusal of one field's value, said as a sentence in which `{field}` and `{Field}` stand
    for its label: `bad_field("closes_at", "{Field} must be in the future.")` says "The
    deadline must be in the future."."""
    label = field_label(field)  # replaced, not formatted: `says` may hold what someone typed
    return Refusal(
        code, says.replace("{Field}", label[:1].upper() + label[1:]).replace("{field}", label), status, field
    )


def describe(exc: Exception) -> tuple[int, str, str]:
    """(status, code, message) for any exception, Litestar's validation errors made refusals
    first (`validation_refusal`); internals never reach the message."""
    if isinstance(exc, HTTPException):
        status = exc.status_code
        if status == 403 and "CSRF" in str(exc.detail):
            return 403, "csrf_failed", _("The form was stale or came from another site; reload the page and try again.")
        # said in the request's language here: raised before it was known, it may be in English
        return status, _CODES.get(status, f"http_{status}"), _(_FRIENDLY.get(str(exc.detail), str(exc.detail)))
    if isinstance(exc, Refusal):
        return exc.status, exc.code, exc.message
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # every database connection busy for 30 s
        return 503, "busy", _("The server is too busy to answer now; try again in a moment.")
    return HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", _("Something went wrong on our side.")


# What msgspec and Litestar say of a value that does not fit, as sentences (`{Field}`: the label).
_KINDS = {
    "str": N_("a string in quotes"),
    "int": N_("a whole number"),
    "float": N_("a number"),
    "bool": N_("true or false"),
    "array": N_("a list"),
    "object": N_("an object"),
    "datetime": N_("a date and time, like 2027-06-30T18:00:00Z"),
    "date": N_("a date, like 2027-06-30"),
    "time": N_("a time, like 18:00:00"),
    "duration": N_("a duration"),
    "uuid": N_("an id"),
}
_BOUNDS = {">=": N_("{n} or more"), "<=": N_("{n} or less"), ">": N_("more than {n}"), "<": N_("less than {n}")}


def _sentence(key: str | None, problem: str) -> tuple[str | None, str]:
    """(the field, a sentence about it) for one problem msgspec reports at `key`."""
    if problem == "'data'" or (key in (None, "data") and problem.startswith("Expected `object`")):
        return None, _("The body must be a JSON object.")  # a missing body: Litestar's KeyError
    if found := re.fullmatch(r"Object missing required field `(.+)`", problem):
        field = f"{key}.{found[1]}" if key and key != "data" else found[1]
        return field, _says(field, _("{Field} is missing."))
    if found := re.fullmatch(r"Object contains unknown field `(.+)`", problem):
        return found[1], _("This request has no field {name}; leave it out.").format(name=found[1])
    field = key or "data"
    if found := re.fullmatch(r"Expected `(\w+)` of length (>=|<=) (\d+)", problem):
        kind, bound, n = found[1], found[2], int(found[3])
        if kind == "str" and bound == ">=":
            if n == 1:
                return field, _says(field, _("{Field} must not be empty."))
            return field, _says(field, _("{Field} must have at least {n} characters.").replace("{n}", str(n)))
        if kind == "str":
            return field, _says(field, _("{Field} must have at most {n} characters.").replace("{n}", str(n)))
        if bound == ">=":
            says = ngettext("{Field} must have at least {n} item.", "{Field} must have at least {n} items.", n)
        else:
            says = ngettext("{Field} must have at most {n} item.", "{Field} must have at most {n} items.", n)
        return field, _says(field, says.replace("{n}", str(n)))
    if found := re.fullmatch(r"Expected `\w+` (>=|<=|>|<) (-?[\d.]+)", problem):
        return field, _says(
            field, _("{Field} must be {bound}.").replace("{bound}", _(_BOUNDS[found[1]]).format(n=found[2]))
        )
    if problem.startswith("Expected `str` matching regex"):
        if field.rsplit(".", 1)[-1] == "email":
            return field, _says(field, _("{Field} must look like name@example.org."))
        return field, _says(field, _("{Field} is not in the expected form."))
    if found := re.fullmatch(r"Expected `(.+)`, got `\w+`", problem):
        # null is how a body leaves an optional field out: not worth saying
        kinds = [_(_KINDS.get(kind, N_("another kind of value"))) for kind in found[1].split(" | ") if kind != "null"]
        return field, _says(field, _("{Field} must be {bound}.").replace("{bound}", _(" or ").join(kinds)))
    if found := re.fullmatch(r"Invalid (?:enum )?value (.+)", problem):
        return field, _says(field, _("{Field} cannot be {value}.").replace("{value}", found[1]))
    if found := re.fullmatch(r"Invalid RFC3339 encoded (\w+)", problem):
        kind = _(_KINDS[found[1]]) if found[1] in _KINDS else _("valid")
        return field, _says(field, _("{Field} must be {bound}.").replace("{bound}", kind))
    if problem == "Expected `datetime` with a timezone component":  # consent.base.text.Moment
        return field, _says(field, _("{Field} needs its time zone offset, like 2027-06-30T18:00:00Z (UTC)."))
    if problem == "Invalid UUID":
        return field, _says(field, _("{Field} is not a valid id."))
    return field, _says(field, _("{Field} is not valid."))


def _says(field: str, says: str) -> str:
    return bad_field(field, says).message


def msgspec_refusal(exc: msgspec.ValidationError, status: int = 400) -> Refusal:
    """msgspec says `Expected ... - at `$.email``: said as a sentence that names the field."""
    problem, _, path = str(exc).partition(" - at `$")
    field, message = _sentence(path.rstrip("`").lstrip(".") or None, problem)
    return Refusal("invalid", message, status, field)


def validation_refusal(exc: ValidationException) -> Refusal:
    """Litestar's refusal of a body or query that does not fit: each problem a sentence."""
    problems = [p for p in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(p, dict)]
    said = [_sentence(p.get("key"), str(p.get("message"))) for p in problems]
    fields = {field for field, _sentence in said}
    return Refusal(
        "invalid",
        " ".join(sentence for _field, sentence in said) or _("The request is not valid."),
        400,
        fields.pop() if len(fields) == 1 else None,
    )


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/ws/")) or request.url.path.endswith(".json")


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # in the requester's language, also for what failed before their language was known
    user = request.scope.get("user")
    i18n.use(i18n.language_of(getattr(user, "language", None), request.headers.get("accept-language")))
    if isinstance(exc, ValidationException):
        exc = validation_refusal(exc)
    status, code, message = describe(exc)
    headers = getattr(exc, "headers", None) or None
    if status == 503:
        log.warning("busy: %s %s waited too long for the database", request.method, request.url.path)
        headers = {"Retry-After": "5"}
    elif status >= 500:
        reference = secrets.token_hex(6)
        log.exception("unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
        message = message + " " + _("The error was logged with reference {reference}.").format(reference=reference)
        headers = {"X-Request-ID": reference}
    if wants_json(request):
        detail = ErrorDetail(code, message, exc.field if isinstance(exc, Refusal) else None)
        return Response(ErrorBody(detail), status_code=status, headers=headers)
    if isinstance(exc, NotAuthorizedException) and request.method == "GET":
        return Redirect(f"/sign-in?next={request.url.path}")
    return Template(
        "consent/error.html",
        context={
            "status": status,
            "code": code,
            "message": message,
            "viewer": request.scope.get("user"),
            "my_circles": [],
            "error_page": True,  # the session may not have been loaded, so no flashes
        },
        status_code=status,
        headers=headers,
    )
