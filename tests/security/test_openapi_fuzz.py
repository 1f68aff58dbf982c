"""schemathesis against the running server's own OpenAPI document (`/schema/openapi.json`):
for every operation, requests generated from the schema (valid ones and invalid ones), sent as
a signed-in member with a token, and every check schemathesis has but its time limit: no server
error; each status, content type, header and body as the document declares; invalid input
refused, valid input accepted. Derandomized, so a failure in CI is the same failure on a laptop."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig

from tests.conftest import Server
from tests.helpers import PASSWORD, Headers, bearer, create_account, email_of

EXAMPLES = 50  # per operation and kind of input (valid, invalid): about a minute for the whole document
# Every check, as schemathesis has them. A body that fits the document may still be refused
# by a rule it cannot state (a name of spaces, a deadline in the past, an action's fields):
# 422, as docs/api.md says; never 400, which means the document was not kept.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]}
        }
    }
)


def sign_in(url: str, name: str) -> Headers:
    response = httpx.post(url + "/api/sessions", json={"email": email_of(name), "password": PASSWORD})
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


@pytest.fixture(scope="module")
def member(module_server: Server) -> Headers:
    """Ada, facilitator of Riverside, which holds the domain Food: a member of something."""
    url = module_server.url
    create_account(url, "Ada", email_of("ada"))
    ada = sign_in(url, "ada")
    circle = httpx.post(url + "/api/circles", json={"name": "Riverside"}, headers=ada)
    assert circle.status_code == 201, circle.text
    domain = httpx.post(f"{url}/api/circles/{circle.json()['id']}/domains", json={"name": "Food"}, headers=ada)
    assert domain.status_code == 201, domain.text
    return ada


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_openapi_document(module_server: Server, member: Headers, mode: GenerationMode) -> None:
    url = module_server.url
    api = schemathesis.openapi.from_url(url + "/schema/openapi.json", config=CONFIG)
    failures = {}
    for found in api.get_all_operations():
        operation = found.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def keeps_to_it(case: Case) -> None:
            # Signing out revokes the token it is sent with: that one signs out a token of its own.
            headers = sign_in(url, "ada") if case.operation.label == "DELETE /api/sessions" else member
            case.call_and_validate(base_url=url, headers=headers)

        try:
            keeps_to_it()
        except Unsatisfiable:  # nothing invalid to send: the operation takes no input
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (
            Exception,
            BaseExceptionGroup,
        ) as failure:  # each operation's first failure, shrunk; then the next operation
            failures[operation.label] = str(failure)
    assert not failures, "\n\n".join(f"{label}:\n{failure}" for label, failure in failures.items())
