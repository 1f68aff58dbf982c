"""Pages in the browser's language, in Chromium against a real server: a Spanish browser gets
Spanish pages whose `lang` says so (axe checks each page it visits, tests/e2e/axe.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import Server
from tests.helpers import PASSWORD


@pytest.fixture
def spanish_page(browser: Browser) -> Iterator[Page]:
    """A phone whose browser prefers Spanish (Accept-Language: es-ES)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES")
    yield context.new_page()
    context.close()


def test_a_spanish_browser_signs_up_and_works_in_spanish(spanish_page: Page, server: Server) -> None:
    page = spanish_page
    page.goto(server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", name="Decidir juntos, por consentimiento")).to_be_visible()

    page.get_by_role("link", name="Registrarse").click()
    page.get_by_label("Nombre").fill("Ana")
    page.get_by_label("Correo electrónico").fill("ana@example.org")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Registrarse").click()
    expect(page.get_by_role("status")).to_contain_text("Te damos la bienvenida, Ana")

    page.goto(server.url + "/circles")
    page.get_by_label("Nombre del círculo general").fill("Ayuda Mutua del Río")
    page.get_by_role("button", name="Crear la organización").click()
    expect(page.get_by_role("status")).to_contain_text("tú eres quien lo facilita")
    expect(page.get_by_role("heading", name="Miembros")).to_be_visible()

    # The page's language is the one the browser writes dates in (a date field: dd/mm/yyyy).
    page.get_by_text("Invitar a un miembro o dar un rol").click()
    expect(page.get_by_label("El período termina el")).to_have_attribute("type", "date")
    written = page.evaluate("() => new Date(2027, 5, 30).toLocaleDateString(document.documentElement.lang)")
    assert written == "30/6/2027", written
