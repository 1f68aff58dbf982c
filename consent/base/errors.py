"""One error envelope for the whole API, friendly pages for browsers.

Domain code in every package raises `Refusal(code, message, status)`; this module is the one
place that turns a refusal, and Litestar's own exceptions, into `{"error": {"code",
"message"}}` (`ErrorBody`) or an HTML page, and that says so in the OpenAPI document
(`error_responses`).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import msgspec
import sqlalchemy.exc
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

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
    "Not Found": "There is nothing at this address, or it is not visible to you.",
    "Method Not Allowed": "This address does not accept that kind of request.",
}


class ErrorDetail(msgspec.Struct):
    code: str  # for programs: API.md names them
    message: str  # for people


class ErrorBody(msgspec.Struct):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


# What each error status means to a caller, for the OpenAPI document.
_MEANINGS = {
    400: "The body or a parameter could not be read (code `invalid`, the field named in the message).",
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

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.status = code, status

    @property
    def message(self) -> str:
        return str(self)


def describe(exc: Exception) -> tuple[int, str, str]:
    """(status, code, message) for any exception; internals never reach the message."""
    if isinstance(exc, ValidationException):
        return 400, "invalid", _validation_message(exc)
    if isinstance(exc, HTTPException):
        status = exc.status_code
        if status == 403 and "CSRF" in str(exc.detail):
            return 403, "csrf_failed", "The form was stale or came from another site; reload the page and try again."
        return status, _CODES.get(status, f"http_{status}"), _FRIENDLY.get(str(exc.detail), str(exc.detail))
    if isinstance(exc, Refusal):
        return exc.status, exc.code, exc.message
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # every database connection busy for 30 s
        return 503, "busy", "The server is too busy to answer now; try again in a moment."
    return HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side."


def field_message(key: str | None, message: str) -> str:
    """`field: what is wrong`, in words a person reads (not a regular expression)."""
    if "matching regex" in message:
        message = "must look like name@example.org" if key == "email" else "has the wrong format"
    return f"{key}: {message}" if key else message


def msgspec_message(exc: Exception) -> str:
    """msgspec says `Expected ... - at `$.email``; name the field first."""
    text, _, path = str(exc).partition(" - at `$.")
    return field_message(path.rstrip("`") or None, text)


def _validation_message(exc: ValidationException) -> str:
    problems = exc.extra if isinstance(exc.extra, list) else []
    parts = [field_message(p.get("key"), str(p.get("message"))) for p in problems if isinstance(p, dict)]
    return "; ".join(parts) or str(exc.detail)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(("/api/", "/ws/")) or request.url.path.endswith(".json")


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status, code, message = describe(exc)
    headers = getattr(exc, "headers", None) or None
    if status == 503:
        log.warning("busy: %s %s waited too long for the database", request.method, request.url.path)
        headers = {"Retry-After": "5"}
    elif status >= 500:
        reference = secrets.token_hex(6)
        log.exception("unexpected error %s on %s %s", reference, request.method, request.url.path, exc_info=exc)
        message = f"{message} The error was logged with reference {reference}."
        headers = {"X-Request-ID": reference}
    if wants_json(request):
        return Response(ErrorBody(ErrorDetail(code, message)), status_code=status, headers=headers)
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
