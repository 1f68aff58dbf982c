"""What a person reads when the server refuses input: a sentence that names the field as the
forms label it, never msgspec's or Python's words, nor a field path (issue 17). The API also
gives the field, as the body or query names it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import assert_refused, proposal_body
from tests.rounds.conftest import Circle

DEADLINE = "2026-11-30T09:00:00Z"
INTERNALS = ("`", "Expected", "$.", "msgspec", "data:", "'data'", "Object ", "RFC3339", "UUID", "null")

# (method, path, body or query, status, code, field, message); {circle} and {domain} are filled in.
CASES: list[tuple[str, str, Any, int, str, str | None, str]] = [
    ("POST", "/api/accounts", {"name": "Ada", "email": "a@b.org", "password": "short"}, 400, "invalid", "password",
     "The password must have at least 8 characters."),
    ("POST", "/api/accounts", b"", 400, "invalid", None, "The body must be a JSON object."),
    ("POST", "/api/accounts", b"[1]", 400, "invalid", None, "The body must be a JSON object."),
    ("POST", "/api/accounts", {"email": "a@b.org", "password": "long enough"}, 400, "invalid", "name",
     "The name is missing."),
    ("POST", "/api/accounts", {"name": "A", "email": "a@b.org", "password": "long enough", "admin": 1}, 400,
     "invalid", "admin", "This request has no field admin; leave it out."),
    ("POST", "/api/accounts", {"name": 5, "email": "a@b.org", "password": "long enough"}, 400, "invalid", "name",
     "The name must be a string in quotes."),
    ("POST", "/api/accounts", {"name": "A", "email": "ab.org", "password": "long enough"}, 400, "invalid", "email",
     "The email must look like name@example.org."),
    ("PATCH", "/api/circles/{circle}", {"default_review_months": "x"}, 400, "invalid", "default_review_months",
     "The default review period must be a whole number."),
    ("PATCH", "/api/circles/{circle}", {"default_review_months": 99}, 422, "invalid", "default_review_months",
     "The default review period must be between 1 and 60 months."),
    ("PATCH", "/api/circles/{circle}", {"parent_id": "x"}, 400, "invalid", "parent_id",
     "The parent circle is not a valid id."),
    ("POST", "/api/circles/{circle}/members", {"email": "x@y.org", "term_ends_on": "tomorrow"}, 400, "invalid",
     "term_ends_on", "The end of the term must be a date, like 2027-06-30."),
    ("POST", "/api/circles/{circle}/proposals", {"closes_at": None}, 422, "invalid", "closes_at",
     "The deadline: an async proposal needs one."),
    ("POST", "/api/circles/{circle}/proposals", {"closes_at": "soon"}, 400, "invalid", "closes_at",
     "The deadline must be a date and time, like 2027-06-30T18:00:00Z."),
    ("POST", "/api/circles/{circle}/proposals", {"closes_at": "2020-01-01T00:00:00Z"}, 422, "invalid", "closes_at",
     "The deadline must be in the future."),
    ("POST", "/api/circles/{circle}/proposals", {"mode": "x"}, 400, "invalid", "mode",
     "The mode (live or async) cannot be 'x'."),
    ("POST", "/api/circles/{circle}/proposals", {"title": " "}, 422, "invalid", "title", "The title must not be empty."),
    ("POST", "/api/circles/{circle}/proposals", {"title": "x" * 201}, 400, "invalid", "title",
     "The title must have at most 200 characters."),
    ("POST", "/api/circles/{circle}/proposals", {"criteria": ["Less waste", 1]}, 400, "invalid", "criteria[1]",
     "Item 2 of the evaluation criteria must be a string in quotes."),
    ("GET", "/api/decisions", {"q": "x" * 300 + "\x00"}, 422, "invalid", "q",
     "The search must not contain the NUL character."),
    ("GET", "/api/decisions", {"limit": "0"}, 422, "invalid", "limit",
     "The number per page must be a whole number from 1 to 100."),
    ("GET", "/api/decisions", {"review_after": "soon"}, 422, "invalid", "review_after",
     "The earliest review date must be a date like 2027-06-30."),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "sent", "status", "code", "field", "message"), CASES)
async def test_the_api_says_what_is_wrong_in_a_sentence(
    circle: Circle, method: str, path: str, sent: Any, status: int, code: str, field: str | None, message: str
) -> None:
    path = path.format(circle=circle.id)
    request: dict[str, Any] = {"headers": circle.people["ada"]}
    if isinstance(sent, bytes):
        request.update(content=sent, headers={**request["headers"], "content-type": "application/json"})
    elif method == "GET":
        request["params"] = sent
    elif path.endswith("/proposals"):
        request["json"] = {**proposal_body(circle.domain_id, DEADLINE), **sent}
    else:
        request["json"] = sent
    response = await circle.client.request(method, path, **request)
    said = assert_refused(response, status, code, field)
    assert said == message
    assert response.json()["error"].get("field") == field
    assert not any(internal in said for internal in INTERNALS), said


async def test_the_actions_say_it_in_sentences_too(circle: Circle) -> None:
    proposal_id = (await circle.propose())["id"]
    asked = await circle.act(proposal_id, "ada", "nope")
    assert assert_refused(asked, 422, "unknown_action", "type") == "There is no action called 'nope'."
    wrong = await circle.act(proposal_id, "ada", "change_mode", mode="async", closes_at=5)
    assert assert_refused(wrong, 422, "invalid", "closes_at") == (
        "The deadline must be a date and time, like 2027-06-30T18:00:00Z."
    )
    missing = await circle.client.post(f"/api/proposals/{proposal_id}/actions", json={}, headers=circle.people["ada"])
    assert assert_refused(missing, 422, "invalid", "type") == "The action is missing: say which one."


async def test_the_forms_say_the_same_sentences(circle: Circle) -> None:
    ada = circle.people["ada"]
    signed_up = await circle.client.post(
        "/sign-up", data={"name": "Eve", "email": "eve@example.org", "password": "short", "next": "/"}, headers=ada
    )
    assert signed_up.status_code == 400 and "The password must have at least 8 characters." in signed_up.text
    form = {"title": "Rota", "driver": "Why", "text": "What", "domain_id": circle.domain_id, "mode": "async"}
    proposed = await circle.client.post(f"/circles/{circle.id}/proposals", data=form, headers=ada)
    assert proposed.status_code == 422 and "The deadline: an async proposal needs one." in proposed.text
    searched = await circle.client.get("/decisions", params={"q": "x" * 300 + "\x00"}, headers=ada)
    assert searched.status_code == 422 and "The search must not contain the NUL character." in searched.text
    for page in (signed_up, proposed, searched):
        assert "closes_at:" not in page.text and "password:" not in page.text and "q:" not in page.text
