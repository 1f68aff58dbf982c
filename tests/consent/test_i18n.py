"""Languages (docs/i18n.md): the catalogs hold every string the code and templates say, the
Spanish one translates each of them, no template shows words outside `_()` or `{% trans %}`,
and pages, API errors and mails come in the reader's language."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import jinja2
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import nodes

from consent.base import i18n
from consent.notifications.mails import About, Postman
from tests.helpers import add_domain, create_circle, proposal_body, riverside, signed_in

ROOT = Path(__file__).parent.parent.parent
TEMPLATES = ROOT / "templates"
POT = ROOT / "consent" / "locale" / "messages.pot"
# Every served language's catalog (English is the msgids themselves).
CATALOGS = [
    ROOT / "consent" / "locale" / code / "LC_MESSAGES" / "messages.po" for code in i18n.LANGUAGES if code != "en"
]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}


def extracted() -> set[str]:
    """What `pybabel extract` finds in the source now (babel.cfg), singular msgids."""
    method_map = [
        ("consent/**.py", "python"),
        ("circles/**.py", "python"),
        ("rounds/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
        ("templates/**.md", "jinja2"),
    ]
    options = {pattern: {"trimmed": "true"} for pattern, method in method_map if method == "jinja2"}
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options, KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as source:
        return read_po(source)


def test_the_catalogs_hold_every_string_of_the_source() -> None:
    """Fails when a string was added or changed without `pybabel extract` and `update`."""
    found = extracted()
    assert found, "nothing extracted"
    for path in (POT, *CATALOGS):
        held = {message.id if isinstance(message.id, str) else message.id[0] for message in catalog(path) if message.id}
        missing = sorted(found - held)
        assert not missing, f"not in {path.relative_to(ROOT)} (docs/i18n.md: extract, update): {missing[:10]}"


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    # `{Field}` and `{field}` are the same label (consent.base.errors.bad_field), capitalised or not
    return {(a or b).lower() if (a or b) in ("Field", "field") else a or b for a, b in PLACEHOLDER.findall(text)}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parent.parent.name)
def test_each_catalog_translates_every_string_with_the_same_placeholders(path: Path) -> None:
    """Spanish first; a language added to i18n.LANGUAGES is checked the same way."""
    untranslated, fuzzy, mismatched = [], [], []
    for message in catalog(path):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            fuzzy.append(ids[0])
        if not all(strings):
            untranslated.append(ids[0])
        for string in strings:
            # a plural's singular may say "one" instead of its count
            expected = placeholders(ids[-1]) | placeholders(ids[0])
            if string and not placeholders(string) <= expected | {"num"}:
                mismatched.append((ids[0], string))
            if string and len(ids) == 1 and placeholders(string) != placeholders(ids[0]):
                mismatched.append((ids[0], string))
    assert not untranslated, f"untranslated: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    assert not mismatched, f"placeholders differ: {mismatched[:5]}"


# Visible text a template may show as it is: the brand, and what is not a word of a language.
ALLOWED_TEXT = {"consent", "JSON", "CSV", "Markdown", "UTC", "(.ics)", "Authorization:", "Bearer"}
# Attributes people read (or hear, with a screen reader).
READ_ATTRIBUTES = re.compile(r"""\b(?:aria-label|title|placeholder|alt)="([^"]*)\"""")


def visible_text(source: str, env: jinja2.Environment) -> list[str]:
    """The words of a template outside `_()` and `{% trans %}`: its literal data, with every
    expression replaced by a stand-in, stripped of markup, comments, scripts and styles, plus
    the values of attributes that are read."""
    parts = []
    for output in env.parse(source).find_all(nodes.Output):
        for child in output.nodes:
            parts.append(child.data if isinstance(child, nodes.TemplateData) else "\x00")
    text = "".join(parts)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    said = [value for value in READ_ATTRIBUTES.findall(text) if re.search(r"[A-Za-z]", value.replace("\x00", ""))]
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&\w+;|&#\d+;", " ", text)
    words = [w for w in re.split(r"[\s\x00]+", text) if re.search(r"[A-Za-z]", w) and not w.startswith("/")]
    return [w for w in words + said if w.strip("`*#-:.,()[]") not in ALLOWED_TEXT] + literal_words(source, env)


def literal_words(source: str, env: jinja2.Environment) -> list[str]:
    """Texts written as string literals in expressions (a field's label, a button's words)
    outside `_()`: any with two words, or one capitalised word. A strftime format is no words."""
    tree = env.parse(source)
    translated = {
        id(const)
        for call in tree.find_all(nodes.Call)
        if isinstance(call.node, nodes.Name) and call.node.name in ("_", "gettext", "ngettext")
        for const in call.find_all(nodes.Const)
    }
    return [
        const.value
        for const in tree.find_all(nodes.Const)
        if id(const) not in translated
        and isinstance(const.value, str)
        and "%" not in const.value
        and (re.search(r"[A-Za-z]+ [A-Za-z]+", const.value) or re.fullmatch(r"[A-Z][a-z]+", const.value))
    ]


def test_templates_show_no_words_outside_gettext() -> None:
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True
    found = {}
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix in (".html", ".txt", ".md"):
            words = visible_text(path.read_text(), env)
            if words:
                found[str(path.relative_to(TEMPLATES))] = words[:8]
    assert not found, f"words outside _() or {{% trans %}}: {found}"


def test_negotiation_prefers_the_account_then_the_browser() -> None:
    assert i18n.language_of(None, "es-ES,es;q=0.9") == "es"
    assert i18n.language_of(None, "fr-FR, es;q=0.5, en;q=0.4") == "es"
    assert i18n.language_of(None, "en-US,en;q=0.9,es;q=0.8") == "en"
    assert i18n.language_of("es", "en-US,en;q=0.9") == "es"
    assert i18n.language_of("en", "es") == "en"
    assert i18n.language_of("xx", "de") == "en"  # neither served: English
    assert i18n.language_of(None, None) == "en"


def test_numbers_and_plurals_in_each_language() -> None:
    def minutes(n: int) -> str:
        return i18n.ngettext("{n} minute", "{n} minutes", n).format(n=i18n.number(n))

    with i18n.using("en"):
        assert i18n.number(1234567) == "1,234,567"
        assert (minutes(1), minutes(2), minutes(1500)) == ("1 minute", "2 minutes", "1,500 minutes")
    with i18n.using("es"):
        assert i18n.number(1234567) == "1.234.567"
        assert (minutes(1), minutes(2), minutes(15000)) == ("1 minuto", "2 minutos", "15.000 minutos")
    assert i18n.current() == "en"  # back to where it was


def test_a_missing_or_stale_catalog_stops_the_start(tmp_path: Path) -> None:
    po = tmp_path / "es" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text("")
    with pytest.raises(i18n.CatalogMissing, match="pybabel compile"):
        i18n.check_catalogs(tmp_path)
    mo = po.with_suffix(".mo")
    mo.write_bytes(b"")
    po.touch()
    import os

    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    with pytest.raises(i18n.CatalogMissing, match="older"):
        i18n.check_catalogs(tmp_path)
    os.utime(mo, (po.stat().st_mtime + 10, po.stat().st_mtime + 10))
    i18n.check_catalogs(tmp_path)


SPANISH_BROWSER = {"Accept-Language": "es-ES,es;q=0.9"}
ENGLISH_BROWSER = {"Accept-Language": "en-US,en;q=0.9"}


async def test_pages_in_the_browsers_language(client: httpx.AsyncClient) -> None:
    page = await client.get("/", headers=SPANISH_BROWSER)
    assert '<html lang="es">' in page.text
    assert "Decidir juntos, por consentimiento" in page.text
    assert page.headers["content-language"] == "es"
    assert "Accept-Language" in page.headers["vary"]
    english = await client.get("/", headers=ENGLISH_BROWSER)
    assert '<html lang="en">' in english.text
    assert "Decide together, by consent" in english.text
    assert english.headers["content-language"] == "en"
    sign_in = await client.get("/sign-in", headers={"Accept-Language": "fr-FR, es;q=0.5"})
    assert "Iniciar sesión" in sign_in.text


async def test_the_accounts_choice_overrides_the_browser(client: httpx.AsyncClient) -> None:
    headers, _ = await signed_in(client, "Ana")
    chosen = await client.patch("/api/accounts/me", json={"language": "es"}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    page = await client.get("/circles", headers={**headers, **ENGLISH_BROWSER})
    assert '<html lang="es">' in page.text
    assert "Círculos" in page.text
    assert page.headers["content-language"] == "es"


async def test_api_errors_in_the_requesters_language(client: httpx.AsyncClient) -> None:
    headers, _ = await signed_in(client, "Ana")
    circle = await create_circle(client, headers, "Riverside")
    response = await client.post(
        f"/api/circles/{circle['id']}/domains", json={"name": ""}, headers={**headers, **SPANISH_BROWSER}
    )
    assert response.status_code in (400, 422)
    error = response.json()["error"]
    assert "nombre" in error["message"], error
    english = await client.post(f"/api/circles/{circle['id']}/domains", json={"name": ""}, headers=headers)
    assert english.json()["error"]["code"] == error["code"]  # for programs: the same in every language
    assert "name" in english.json()["error"]["message"]
    missing = await client.get(f"/api/circles/{uuid.uuid4()}", headers={**headers, **SPANISH_BROWSER})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert missing.json()["error"]["message"] == "No existe ese círculo, o no es visible para ti."


def test_a_mail_in_each_recipients_language() -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    i18n.install(env)
    postman = Postman(env, "https://consent.example", "consent@consent.example", "secret")
    about = About("decided", "Riverside", "Bread on Fridays", "/decisions/1", None, {"review_by": "2027-06-30"})
    recipients = [
        ("k1", (uuid.uuid4(), "Ana", "ana@example.org", "America/Mexico_City"), uuid.uuid4(), "es"),
        ("k2", (uuid.uuid4(), "Bo", "bo@example.org", "UTC"), uuid.uuid4(), None),
    ]
    ana, bo = postman.notifications(about, recipients)
    assert ana.subject.startswith("[Riverside] Decidida: Bread on Fridays"), ana.subject
    assert "Hola Ana:" in ana.text and "Hola Ana:" in ana.html
    assert bo.subject == "[Riverside] Decided: Bread on Fridays"
    assert "Hello Bo," in bo.text
    invitation = postman.invitation("k3", "cy@example.org", "Riverside", "Ana", "https://x/i", language="es")
    assert invitation.subject == "Ana te invita a Riverside"
    assert 'lang="es"' in invitation.html


async def test_a_circles_page_counts_in_spanish(client: httpx.AsyncClient) -> None:
    headers, _ = await signed_in(client, "Ana")
    circle = await create_circle(client, headers, "Riverside")
    await add_domain(client, headers, circle["id"], "Food")
    page = await client.get(f"/circles/{circle['id']}", headers={**headers, **SPANISH_BROWSER})
    assert "Dominios" in page.text and "Miembros" in page.text, page.text


async def test_a_refused_action_in_the_senders_language(client: httpx.AsyncClient) -> None:
    """Actions are applied by the writer's task: the refusal is still in its sender's language."""
    headers, _ = await signed_in(client, "Ana")
    circle = await create_circle(client, headers, "Riverside")
    domain = await add_domain(client, headers, circle["id"], "Food")
    created = await client.post(
        f"/api/circles/{circle['id']}/proposals",
        json=proposal_body(domain["id"], "2099-01-01T12:00:00Z"),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    action = {"type": "consent", "client_id": "i18n-1"}  # a draft takes no responses
    path = f"/api/proposals/{created.json()['id']}/actions"
    spanish = await client.post(path, json=action, headers={**headers, **SPANISH_BROWSER})
    english = await client.post(path, json={**action, "client_id": "i18n-2"}, headers=headers)
    assert spanish.json()["error"]["code"] == english.json()["error"]["code"]
    assert "no es posible mientras la propuesta está en" in spanish.json()["error"]["message"], spanish.text
    assert "is not possible while the proposal is" in english.json()["error"]["message"]


async def spanish_page(client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None) -> str:
    page = await client.get(path, headers={**(headers or {}), **SPANISH_BROWSER})
    assert page.status_code == 200, page.text
    assert '<html lang="es">' in page.text
    return page.text


async def test_the_account_pages_in_spanish(client: httpx.AsyncClient) -> None:
    headers, _ = await signed_in(client, "Ana")
    account = await spanish_page(client, "/account", headers)
    assert "Navegadores con sesión iniciada" in account and "Mis datos" in account, account
    assert "Cambiar la contraseña" in account and "Zona horaria" in account
    reset = await spanish_page(client, "/password-reset")
    assert "¿Olvidaste tu contraseña?" in reset and "Envíame un enlace" in reset, reset
    delete = await spanish_page(client, "/account/delete", headers)
    assert "Eliminar mi cuenta para siempre" in delete and "Qué se borra" in delete, delete


async def test_an_action_item_and_a_nomination_form_in_spanish(client: httpx.AsyncClient) -> None:
    ada, _ = await signed_in(client, "ada")
    bo, bo_id = await signed_in(client, "bo")
    circle_id, domain_id = await riverside(client, ada, ("bo",))
    body = proposal_body(
        domain_id,
        "2099-11-30T09:00:00Z",
        action_items=[{"what": "Ask the baker", "owner_id": bo_id, "due_on": "2099-12-10"}],
    )
    proposal = await client.post(f"/api/circles/{circle_id}/proposals", json=body, headers=ada)
    assert proposal.status_code == 201, proposal.text
    path = f"/api/proposals/{proposal.json()['id']}/actions"
    for n, (who, type_) in enumerate(
        [(ada, "start"), (ada, "advance"), (ada, "advance"), (ada, "consent"), (bo, "consent")]
    ):
        done = await client.post(path, json={"type": type_, "client_id": f"es-{n}"}, headers=who)
        assert done.status_code == 200, done.text
    decision_id = (await client.get(path.removesuffix("/actions"), headers=ada)).json()["decision_id"]
    decision = await spanish_page(client, f"/decisions/{decision_id}", bo)
    assert "Tareas" in decision and "Ask the baker" in decision and "pedida, aún sin respuesta" in decision, decision
    assert ">Aceptar</button>" in decision and "Marcar como hecha" in decision

    opened = await client.post(
        f"/circles/{circle_id}/selections",
        data={"role": "treasurer", "term_ends_on": "2030-06-30", "mode": "async", "closes_at": "2029-11-30T09:00"},
        headers=ada,
        follow_redirects=False,
    )
    assert opened.status_code in (302, 303), opened.text
    selection_id = opened.headers["location"].removeprefix("/proposals/")
    started = await client.post(
        f"/api/proposals/{selection_id}/actions", json={"type": "start", "client_id": "es-start"}, headers=ada
    )
    assert started.status_code == 200, started.text
    nominating = await spanish_page(client, f"/proposals/{selection_id}", bo)
    assert "Selección de alguien como treasurer" in nominating, nominating
    assert "¿Por qué esa persona?" in nominating and ">Nominar</button>" in nominating and "A quién" in nominating


async def test_a_time_in_spanish_with_its_zone(client: httpx.AsyncClient) -> None:
    headers, _ = await signed_in(client, "Ana")
    chosen = await client.patch("/api/accounts/me", json={"time_zone": "Europe/Madrid"}, headers=headers)
    assert chosen.status_code == 200, chosen.text
    circle = await create_circle(client, headers, "Riverside")
    domain = await add_domain(client, headers, circle["id"], "Food")
    proposal = await client.post(
        f"/api/circles/{circle['id']}/proposals",
        json=proposal_body(domain["id"], "2099-12-10T18:00:00Z"),
        headers=headers,
    )
    assert proposal.status_code == 201, proposal.text
    page = await spanish_page(client, f"/proposals/{proposal.json()['id']}", headers)
    assert "10 dic 2099, 19:00 CET" in page, page  # Madrid's time, a Spanish month, the zone's name
    assert "hora de España (Madrid)" in page  # the zone a deadline is typed in, said in Spanish
