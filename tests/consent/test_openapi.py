"""The OpenAPI document tells the truth: it is valid, it names the bodies the API answers, and
every error it declares has the one error body the app really sends."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from tests.helpers import account_body, assert_refused

# Every part of the API, by tag.
OURS = {"accounts", "circles", "proposals", "decisions"}
ERROR_BODY = "#/components/schemas/ErrorBody"


@pytest.fixture
async def schema(client: AsyncTestClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def body_ref(operation: dict[str, Any], status: str) -> str:
    """The schema reference of the JSON body that `operation` answers with `status`."""
    return operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]


def component(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    return schema["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def test_the_document_is_valid_openapi(schema: dict[str, Any]) -> None:
    validate(schema)


def test_the_error_body_is_the_one_the_app_sends(schema: dict[str, Any]) -> None:
    body = component(schema, ERROR_BODY)
    assert body["required"] == ["error"]
    detail = component(schema, body["properties"]["error"]["$ref"])
    assert set(detail["required"]) == {"code", "message"}
    properties = detail["properties"]
    assert {name: properties[name]["type"] for name in ("code", "message")} == {"code": "string", "message": "string"}
    assert set(properties) == {"code", "message", "field"}  # the field refused, when one is


async def test_a_real_error_has_the_declared_shape(client: AsyncTestClient) -> None:
    response = await client.get("/api/accounts/me")
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "not_signed_in", "message": "Sign in first."}}


def test_every_error_of_our_routes_is_declared_with_the_error_body(schema: dict[str, Any]) -> None:
    operations = [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and OURS & set(op.get("tags", ()))
    ]
    assert len(operations) >= 19
    for method, path, op in operations:
        errors = [status for status in op["responses"] if int(status) >= 400]
        assert errors, f"{method} {path} declares no error"
        for status in errors:
            assert body_ref(op, status) == ERROR_BODY, f"{method} {path} {status}"


def test_an_accounts_route(schema: dict[str, Any]) -> None:
    sign_in = schema["paths"]["/api/sessions"]["post"]
    assert set(sign_in["responses"]) == {"200", "400", "401", "415", "429"}
    signed_in = component(schema, body_ref(sign_in, "200"))
    assert set(signed_in["properties"]) == {"token", "account"}
    for status in ("400", "401", "415", "429"):
        assert body_ref(sign_in, status) == ERROR_BODY


def test_a_circles_route(schema: dict[str, Any]) -> None:
    read = schema["paths"]["/api/circles/{circle_id}"]["get"]
    assert set(read["responses"]) == {"200", "400", "401", "404"}
    circle = component(schema, body_ref(read, "200"))
    assert {"id", "name", "parent_id", "organisation_id", "private", "members", "domains"} <= set(circle["properties"])
    assert body_ref(read, "404") == body_ref(read, "400") == ERROR_BODY


def test_the_decision_routes(schema: dict[str, Any]) -> None:
    read = schema["paths"]["/api/decisions/{decision_id}"]["get"]
    decision = component(schema, body_ref(read, "200"))
    # API.md's decision, and the record behind it.
    assert {
        "text",
        "driver",
        "circle",
        "domain",
        "decided_at",
        "review_by",
        "responses",
        "concerns",
        "objections",
        "revisions",
        "proposal_id",
        "supersedes",
        "superseded_by",
        "status",
        "reviews",
        "timeline",
    } <= set(decision["required"])
    assert decision["properties"]["status"]["enum"] == ["active", "due", "overdue", "retired", "superseded"]
    assert body_ref(read, "404") == body_ref(read, "400") == ERROR_BODY

    log = component(schema, body_ref(schema["paths"]["/api/decisions"]["get"], "200"))
    assert set(log["properties"]) == {"items", "next_cursor"}
    listed = component(schema, log["properties"]["items"]["items"]["$ref"])
    assert "timeline" not in listed["properties"] and "responses" in listed["properties"]

    review = schema["paths"]["/api/decisions/{decision_id}/reviews"]["post"]
    assert set(review["responses"]) == {"201", "400", "401", "403", "404", "409", "422"}
    assert set(component(schema, body_ref(review, "201"))["properties"]) == {"review_id", "proposal_id"}
    assert body_ref(review, "422") == body_ref(review, "409") == body_ref(review, "400") == ERROR_BODY


def test_the_proposal_routes(schema: dict[str, Any]) -> None:
    read = schema["paths"]["/api/proposals/{proposal_id}"]["get"]
    proposal = component(schema, body_ref(read, "200"))
    assert {
        "id",
        "title",
        "state",
        "mode",
        "kind",
        "criteria",
        "review",
        "revision",
        "seq",
        "round",
        "participants",
        "objections",
    } <= set(proposal["properties"])
    assert body_ref(read, "404") == ERROR_BODY

    act = schema["paths"]["/api/proposals/{proposal_id}/actions"]["post"]
    accepted = act["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    types = {one["properties"]["type"]["enum"][0] for one in accepted}
    assert {"start", "advance", "question", "consent", "concern", "object", "stand_aside", "amend", "present"} <= types
    assert all("client_id" in one["required"] for one in accepted)
    assert set(act["responses"]) == {"200", "400", "401", "403", "404", "409", "422"}
    acted = component(schema, body_ref(act, "200"))
    assert set(acted["properties"]) == {"seq", "event", "events"}
    assert body_ref(act, "409") == body_ref(act, "422") == ERROR_BODY

    events = component(schema, body_ref(schema["paths"]["/api/proposals/{proposal_id}/events"]["get"], "200"))
    event = component(schema, events["properties"]["items"]["items"]["$ref"])
    assert next(iter(event["properties"])) == "seq" and {"type", "at", "actor", "data"} <= set(event["properties"])


async def test_request_bodies_are_documented_as_the_server_reads_them(
    client: AsyncTestClient, schema: dict[str, Any]
) -> None:
    """Found by schemathesis (tests/security): the document let a body carry fields the server
    refuses, and its email pattern's \\s is not the same set of characters in the JavaScript
    regular expressions of OpenAPI as in Python's."""
    body = schema["paths"]["/api/accounts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    sign_up = component(schema, body["$ref"])
    assert sign_up["additionalProperties"] is False
    assert_refused(await client.post("/api/accounts", json={**account_body("ada"), "admin": True}), 400, "invalid")
    assert "\\s" not in sign_up["properties"]["email"]["pattern"]
    for space in ("\x1c", "\x85", "\ufeff", "\u2028"):  # whitespace to one of the two, or both
        refused = await client.post("/api/accounts", json=account_body("ada", email=f"a{space}da@example.org"))
        assert refused.status_code in (400, 422), (repr(space), refused.text)
    assert (await client.post("/api/accounts", json=account_body("ada", email=" ada@example.org\n"))).status_code == 201
