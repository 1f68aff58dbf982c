"""A Spanish-speaking member in Mexico City, in Chromium against a real server (issue 18): she
signs up, accepts an invitation, answers an async proposal before its deadline, types a deadline
of her own in local time, and reads the decision, all in Spanish with Mexico City's times. The
facilitator works through the API in a circle whose zone is UTC. axe checks each page
(tests/e2e/axe.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from consent.base.times import format_day, format_moment
from tests.conftest import Server
from tests.e2e.test_invitation_pages import ok, sign_in
from tests.e2e.test_proposal_pages import PHONE, PROPOSAL_URL, do, phase
from tests.helpers import PASSWORD, accept_invitations, create_account, proposal_body

MEXICO_CITY = ZoneInfo("America/Mexico_City")
CIRCLE = "Huerto Comunitario"


@pytest.fixture
def lucia(browser: Browser) -> Iterator[Page]:
    """Lucía's phone: its browser prefers Spanish and keeps Mexico City's time."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="es-ES", timezone_id="America/Mexico_City"
    )
    yield context.new_page()
    context.close()


def test_a_spanish_member_in_mexico_city_takes_part_in_spanish_with_local_times(lucia: Page, server: Server) -> None:
    url, page = server.url, lucia
    create_account(url, "Ada", "ada@example.org")
    create_account(url, "Bo", "bo@example.org")
    ada = sign_in(url, "ada@example.org")
    circle = ok(httpx.post(url + "/api/circles", json={"name": CIRCLE}, headers=ada), 201)
    circle = ok(httpx.patch(f"{url}/api/circles/{circle['id']}", json={"time_zone": "UTC"}, headers=ada))
    assert circle["time_zone"] == "UTC"
    members = f"{url}/api/circles/{circle['id']}/members"
    for email in ("bo@example.org", "lucia@example.org"):  # Lucía has no account yet
        ok(httpx.post(members, json={"email": email}, headers=ada), 202)
    assert accept_invitations(url, "bo@example.org") == [CIRCLE]
    domain = ok(httpx.post(f"{url}/api/circles/{circle['id']}/domains", json={"name": "Riego"}, headers=ada), 201)

    # She signs up on the Spanish pages; her browser's zone becomes her account's.
    page.goto(url + "/sign-up")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    page.get_by_label("Nombre").fill("Lucía")
    page.get_by_label("Correo electrónico").fill("lucia@example.org")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Registrarse").click()
    expect(page.get_by_role("status")).to_contain_text("Te damos la bienvenida, Lucía")
    lucia_headers = sign_in(url, "lucia@example.org")

    # She accepts the invitation on its page.
    page.goto(url + "/invitations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tus invitaciones")
    invitation = page.locator("article", has=page.get_by_role("heading", name=CIRCLE))
    expect(invitation).to_contain_text("Invitación de Ada")
    invitation.get_by_role("button", name=f"Unirme a {CIRCLE}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Te uniste a {CIRCLE}.")
    expect(page.locator("html")).to_have_attribute("lang", "es")

    # Ada's async proposal, in its consent round, open for three days.
    deadline = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    body = proposal_body(domain["id"], deadline.isoformat(), title="Regar por la mañana")
    proposal = ok(httpx.post(f"{url}/api/circles/{circle['id']}/proposals", json=body, headers=ada), 201)
    actions = f"{url}/api/proposals/{proposal['id']}/actions"
    for number, step in enumerate(("start", "advance", "advance")):
        ok(httpx.post(actions, json={"type": step, "client_id": f"ada-{number}"}, headers=ada))

    # She reads its deadline in Mexico City's time, in Spanish, and consents on the page.
    page.goto(f"{url}/proposals/{proposal['id']}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Regar por la mañana")
    local = format_moment(deadline, MEXICO_CITY, "es")
    assert local.endswith(" hora estándar central"), local  # Mexico City keeps standard time all year
    open_until = page.locator(".badges .badge", has_text="abierta hasta")
    expect(open_until.locator(f'time[datetime="{deadline.isoformat()}"]')).to_have_text(local)
    do(page, "Doy mi consentimiento")
    expect(phase(page)).to_have_text("Ronda de consentimiento")  # Ada and Bo have not responded yet
    expect(page.get_by_role("button", name="Doy mi consentimiento")).to_have_count(0)  # she has responded

    # Her own proposal, its deadline typed in her local time: noon in Mexico City is 18:00 UTC.
    page.goto(f"{url}/circles/{circle['id']}")
    page.get_by_role("link", name="Hacer una propuesta").click()
    page.get_by_label("Título").fill("Compostar las hojas")
    page.get_by_label("Motivo: la necesidad o situación").fill("Las hojas secas se tiran a la basura.")
    page.get_by_label("Propuesta", exact=True).fill("Hacemos composta con las hojas secas.")
    page.get_by_label("Dominio").select_option(label="Riego")
    page.get_by_label("De forma asíncrona, hasta una fecha límite").check()
    page.locator("#f-closes_at").fill("2027-01-15T12:00")
    page.get_by_role("button", name="Guardar la propuesta").click()
    expect(page).to_have_url(PROPOSAL_URL)
    own = ok(httpx.get(f"{url}/api/proposals/{page.url.rsplit('/', 1)[1]}", headers=lucia_headers))
    assert datetime.fromisoformat(own["closes_at"]) == datetime(2027, 1, 15, 18, 0, tzinfo=UTC), own["closes_at"]

    # Bo and Ada consent through the API: everyone has responded, the last consent decides it.
    bo = sign_in(url, "bo@example.org")
    ok(httpx.post(actions, json={"type": "consent", "client_id": "bo-consent"}, headers=bo))
    ok(httpx.post(actions, json={"type": "consent", "client_id": "ada-consent"}, headers=ada))
    decided = ok(httpx.get(f"{url}/api/proposals/{proposal['id']}", headers=ada))
    assert decided["state"] == "decided" and decided["decision_id"], decided
    decision = ok(httpx.get(f"{url}/api/decisions/{decided['decision_id']}", headers=lucia_headers))

    # She reads the decision in Spanish, its dates in Spanish and in her zone.
    page.goto(f"{url}/decisions/{decided['decision_id']}")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Regar por la mañana")
    expect(page.locator(".statement")).to_contain_text(f"Consentida por {CIRCLE}")
    badges = page.locator(".badges")
    expect(badges.locator(".badge", has_text="decidida").locator("time")).to_have_text(
        format_day(decision["decided_at"], MEXICO_CITY, "es")
    )
    review_by = format_day(decision["review_by"], MEXICO_CITY, "es")
    assert re.fullmatch(r"\d{1,2} [a-z]{3,4} \d{4}", review_by), review_by  # "3 jun 2027"
    expect(badges.locator(".badge", has_text="revisar antes del").locator("time")).to_have_text(review_by)
    expect(page.get_by_role("heading", name="Cada miembro en la ronda que decidió")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # fits the phone
