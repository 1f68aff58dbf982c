"""The circle pages in headless Chromium against a real server: an organisation, its sub-circles,
domains, roles and the org chart; bad input; who sees which forms; invitations, by account and by
link, with the circle's standing agreements; leaving and removing; a phone screen."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.conftest import Server
from tests.helpers import PASSWORD, accept_invitations, create_account, sign_in_in_page, sign_up_in_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CIRCLE_URL = re.compile(r"/circles/[0-9a-f-]{36}$")


def sign_out(page: Page) -> None:
    page.get_by_role("navigation", name="Main").locator("summary").click()  # the menu behind your name
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Sign in")).to_be_visible()


def start_organisation(page: Page, server: Server, name: str, aim: str = "") -> str:
    """Creates an organisation on /circles; returns its circle page's URL."""
    page.goto(server.url + "/circles")
    expect(page.get_by_role("heading", name="Start a new organisation")).to_be_visible()
    page.get_by_label("Name of the general circle").fill(name)
    page.get_by_label("Aim").fill(aim)
    page.get_by_role("button", name="Create the organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.get_by_role("status")).to_contain_text(f"{name} was created; you are its facilitator.")
    expect(page).to_have_url(CIRCLE_URL)
    return page.url


def open_form(page: Page, summary: str) -> Locator:
    """Opens the <details> whose <summary> says `summary`; returns it, to look for fields inside."""
    details = page.locator("details", has=page.locator("summary", has_text=summary))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    expect(details.locator("form")).to_be_visible()
    return details


def section(page: Page, heading: str) -> Locator:
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def add_domain(page: Page, name: str, description: str = "", delegated_from: str | None = None) -> None:
    form = open_form(page, "Add a domain")
    form.get_by_label("Name of the domain").fill(name)
    form.get_by_label("Description").fill(description)
    if delegated_from is not None:
        form.get_by_label(re.compile(r"^Delegated from ")).select_option(label=delegated_from)
    form.get_by_role("button", name="Add the domain").click()
    expect(page.get_by_role("status")).to_contain_text(f"The domain {name} was added.")


def add_sub_circle(page: Page, name: str, aim: str = "") -> None:
    form = open_form(page, "Add a sub-circle")
    form.get_by_label("Name of the sub-circle").fill(name)
    form.get_by_label("Aim").fill(aim)
    form.get_by_role("button", name="Add the sub-circle").click()
    expect(page.get_by_role("status")).to_contain_text(f"The sub-circle {name} was created.")


def give_role(page: Page, email: str, role: str = "", term_ends_on: str = "", name: str = "") -> Locator:
    """Invites `email` (or gives a member the role) with the circle page's form."""
    form = open_form(page, "Invite a member or give a role")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Role", exact=True).fill(role)
    form.get_by_label("Term ends on").fill(term_ends_on)
    form.get_by_label(re.compile("^Their name")).fill(name)
    form.get_by_role("button", name="Save").click()
    return form


def accept_in_page(page: Page, server: Server, email: str, circle: str) -> None:
    """Whoever is signed in signs out; `email` signs in, and joins `circle` from the home page."""
    sign_out(page)
    sign_in_in_page(page, server.url, email)
    page.goto(server.url + "/")
    page.get_by_role("link", name=re.compile("^Read and answer")).click()
    page.locator("article", has=page.get_by_role("heading", name=circle, exact=True)).get_by_role(
        "button", name=f"Join {circle}"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(f"You joined {circle}.")
    expect(page.get_by_role("heading", level=1)).to_have_text(circle)


def test_an_organisation_with_a_delegated_domain_a_leader_a_delegate_and_its_org_chart(
    page: Page, server: Server
) -> None:
    create_account(server.url, "Bea Leader", "bea@example.org")
    create_account(server.url, "Cy Delegate", "cy@example.org")
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")

    org_url = start_organisation(page, server, "Acme Coop", "Make good things together")
    members = section(page, "Members")
    expect(members).to_contain_text("Ada")
    expect(members).to_contain_text("facilitator")

    add_domain(page, "Finance", "Money in and out")
    expect(section(page, "Domains")).to_contain_text("Finance")

    add_sub_circle(page, "Bookkeeping", "Keep the books straight")
    section(page, "Sub-circles").get_by_role("link", name="Bookkeeping").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bookkeeping")
    sub_url = page.url
    expect(page.locator(".crumbs").get_by_role("link", name="Acme Coop")).to_have_attribute(
        "href", org_url.removeprefix(server.url)
    )

    # A domain of the parent, delegated to the sub-circle by the parent's facilitator.
    add_domain(page, "Invoices", "Sending and chasing invoices", delegated_from="Finance")
    domains = section(page, "Domains")
    expect(domains).to_contain_text("Invoices")
    expect(domains).to_contain_text("delegated by Acme Coop")

    # The leader is chosen by the parent circle: its facilitator invites her as leader.
    give_role(page, "bea@example.org", "leader")
    expect(page.get_by_role("status")).to_contain_text("bea@example.org is invited as leader")
    expect(section(page, "Members")).not_to_contain_text("Bea Leader")  # not before she accepts
    expect(section(page, "Members")).to_contain_text("bea@example.org as leader")
    accept_in_page(page, server, "bea@example.org", "Bookkeeping")
    expect(section(page, "Members").locator("tr", has_text="Bea Leader")).to_contain_text("leader")

    # The delegate is chosen by the sub-circle itself: its leader invites him.
    give_role(page, "cy@example.org", "delegate")
    expect(page.get_by_role("status")).to_contain_text("cy@example.org is invited as delegate")
    accept_in_page(page, server, "cy@example.org", "Bookkeeping")
    assert page.url == sub_url
    members = section(page, "Members")
    expect(members.locator("tr", has_text="Cy Delegate")).to_contain_text("delegate")
    expect(members.locator("tr", has_text="Bea Leader")).to_contain_text("leader")

    page.locator(".crumbs").get_by_role("link", name="Org chart").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Org chart of Acme Coop")
    chart = page.locator(".chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator(".circle-box text", has_text="Acme Coop")).to_have_count(1)
    expect(chart.locator(".circle-box text", has_text="Bookkeeping")).to_have_count(1)
    labels = chart.locator(".edge text.link-label")
    expect(labels).to_have_text(["delegate: Cy Delegate", "leader: Bea Leader"])
    # A group of links named by its title (an image's parts could not be links), in a region
    # that scrolls.
    drawing = page.get_by_role("region", name="Org chart").get_by_role(
        "group", name="Circles of Acme Coop and the links between them"
    )
    expect(drawing.get_by_role("link", name="Bookkeeping")).to_have_attribute("href", sub_url.removeprefix(server.url))
    # Every label is drawn whole, inside the drawing, not cut off at its edge.
    cut_off = chart.evaluate("""svg => {
        const box = svg.getBoundingClientRect();
        return [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
            .filter(([, r]) => r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom)
            .map(([text]) => text);
    }""")
    assert cut_off == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "org-chart.png"), full_page=True)

    # The circles in the chart are links to their pages.
    chart.locator("a", has=page.locator("text", has_text="Acme Coop")).click()
    expect(page).to_have_url(org_url)
    # Leader and delegate sit in both circles: the parent now lists them as members too.
    members = section(page, "Members")
    expect(members.locator("tr", has_text="Cy Delegate")).to_contain_text("member")
    expect(members.locator("tr", has_text="Bea Leader")).to_contain_text("member")
    expect(members.locator("tr", has_text="Ada")).to_contain_text("facilitator")


def test_bad_input_is_answered_on_the_page_and_nothing_typed_is_lost(page: Page, server: Server) -> None:
    create_account(server.url, "Bea", "bea@example.org")
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    start_organisation(page, server, "Acme Coop")

    form = open_form(page, "Add a sub-circle")
    form.get_by_label("Name of the sub-circle").evaluate("el => el.removeAttribute('required')")
    form.get_by_label("Aim").fill("Keep the books straight")
    form.get_by_role("button", name="Add the sub-circle").click()
    expect(page.get_by_role("alert")).to_contain_text("name")
    form = page.locator("details", has=page.locator("summary", has_text="Add a sub-circle"))
    expect(form).to_have_attribute("open", "")  # the form with the mistake is open, as it was typed
    expect(form.get_by_label("Aim")).to_have_value("Keep the books straight")
    expect(section(page, "Sub-circles")).to_contain_text("No sub-circles.")

    form = give_role(page, "nobody@example", "secretary")
    expect(page.get_by_role("alert")).to_contain_text("The email must look like name@example.org.")
    expect(form.get_by_label("Email")).to_have_value("nobody@example")
    expect(form.get_by_label("Role", exact=True)).to_have_value("secretary")

    form = give_role(page, "bea@example.org", "secretary", "2020-01-31")
    expect(page.get_by_role("alert")).to_contain_text("term")
    expect(form.get_by_label("Email")).to_have_value("bea@example.org")
    expect(form.get_by_label("Term ends on")).to_have_value("2020-01-31")
    expect(section(page, "Members")).not_to_contain_text("bea@example.org")  # nothing was changed

    form = give_role(page, "bea@example.org", "leader")
    expect(page.get_by_role("alert")).to_contain_text("top-level circle has no leader")
    expect(form.get_by_label("Role", exact=True)).to_have_value("leader")
    expect(section(page, "Members")).not_to_contain_text("bea@example.org")

    # And a good answer after the bad ones goes through: Bea is invited, the same way as
    # someone without an account.
    form.get_by_label("Role", exact=True).fill("secretary")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("bea@example.org is invited as secretary")
    form = give_role(page, "nobody@example.org", "secretary")
    expect(page.get_by_role("status")).to_contain_text("nobody@example.org is invited as secretary")
    expect(section(page, "Members")).to_contain_text("bea@example.org as secretary")
    expect(section(page, "Members")).to_contain_text("nobody@example.org as secretary")
    expect(section(page, "Members").locator("tr", has_text="Bea")).to_have_count(0)


def test_a_bad_domain_or_bad_settings_keep_what_was_chosen(page: Page, server: Server) -> None:
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    org_url = start_organisation(page, server, "Acme Coop", "Make good things together")
    add_domain(page, "Finance")
    add_sub_circle(page, "Bookkeeping")
    section(page, "Sub-circles").get_by_role("link", name="Bookkeeping").click()

    form = open_form(page, "Add a domain")
    form.get_by_label("Name of the domain").evaluate("el => el.removeAttribute('required')")
    form.get_by_label("Description").fill("Sending and chasing invoices")
    form.get_by_label("Delegated from Acme Coop's domain").select_option(label="Finance")
    form.get_by_role("button", name="Add the domain").click()
    expect(page.get_by_role("alert")).to_contain_text("name")
    expect(form).to_have_attribute("open", "")
    expect(form.get_by_label("Description")).to_have_value("Sending and chasing invoices")
    # The delegation chosen is kept: fixing the name must not quietly add an undelegated domain.
    expect(form.get_by_label("Delegated from Acme Coop's domain").locator("option:checked")).to_have_text("Finance")
    form.get_by_label("Name of the domain").fill("Invoices")
    form.get_by_role("button", name="Add the domain").click()
    expect(page.get_by_role("status")).to_contain_text("The domain Invoices was added.")
    expect(section(page, "Domains")).to_contain_text("delegated by Acme Coop")

    page.goto(org_url)
    form = open_form(page, "Settings")
    form.get_by_label("Name", exact=True).fill("Acme Cooperative")
    form.get_by_label("Aim").fill("Make better things together")
    form.get_by_label("Default review period (months)").fill("0")
    form.get_by_label("Private: only members see its details").check()
    form.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("alert")).to_contain_text("The default review period must be between 1 and 60 months.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Coop")  # nothing was changed
    expect(form).to_have_attribute("open", "")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Acme Cooperative")
    expect(form.get_by_label("Aim")).to_have_value("Make better things together")
    expect(form.get_by_label("Default review period (months)")).to_have_value("0")
    expect(form.get_by_label("Private: only members see its details")).to_be_checked()
    form.get_by_label("Default review period (months)").fill("12")
    form.get_by_role("button", name="Save the settings").click()
    expect(page.get_by_role("status")).to_contain_text("The circle's settings were saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Cooperative")
    expect(page.get_by_role("heading", level=1)).to_contain_text("private")


def test_members_without_a_role_see_no_forms_they_cannot_use_and_outsiders_see_nothing(
    page: Page, server: Server
) -> None:
    create_account(server.url, "Bea Member", "bea@example.org")
    create_account(server.url, "Oz Outsider", "oz@example.org")
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    org_url = start_organisation(page, server, "Acme Coop")
    for summary in ("Add a sub-circle", "Add a domain", "Invite a member or give a role", "Settings"):
        expect(page.locator("summary", has_text=summary)).to_be_visible()
    give_role(page, "bea@example.org")
    expect(page.get_by_role("status")).to_contain_text("bea@example.org is invited: they join once they accept.")
    accept_in_page(page, server, "bea@example.org", "Acme Coop")

    expect(page).to_have_url(org_url)
    expect(section(page, "Members").locator("tr", has_text="Bea Member")).to_contain_text("member")
    for summary in ("Add a sub-circle", "Add a domain", "Invite a member or give a role", "Settings"):
        expect(page.locator("summary", has_text=summary)).to_have_count(0)
    expect(page.get_by_role("heading", name="Change this circle")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    expect(page.locator("summary", has_text="Leave this circle")).to_be_visible()
    sign_out(page)

    sign_in_in_page(page, server.url, "oz@example.org")
    response = page.goto(org_url)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.get_by_text("not visible to you")).to_be_visible()
    expect(page.get_by_text("Acme Coop")).to_have_count(0)
    response = page.goto(org_url + "/chart")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Acme Coop")).to_have_count(0)


def test_a_member_leaves_and_the_last_steward_cannot(page: Page, server: Server) -> None:
    create_account(server.url, "Bea", "bea@example.org")
    create_account(server.url, "Cy", "cy@example.org")
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    org_url = start_organisation(page, server, "Acme Coop")
    for email in ("bea@example.org", "cy@example.org"):
        give_role(page, email)
        expect(page.get_by_role("status")).to_contain_text(f"{email} is invited")
        assert accept_invitations(server.url, email) == ["Acme Coop"]
    page.reload()

    # The last steward cannot leave: the page says why, and nothing changes.
    open_form(page, "Leave this circle").get_by_role("button", name="Leave Acme Coop").click()
    expect(page.get_by_role("alert")).to_contain_text("without a facilitator, secretary or leader")
    expect(section(page, "Members").locator("tr", has_text="Ada")).to_contain_text("facilitator")

    # A steward removes a member, after saying yes to the question.
    row = section(page, "Members").locator("tr", has_text="Cy")
    row.locator("summary", has_text="Remove").click()
    expect(row).to_contain_text("Their open objections lapse")
    row.get_by_role("button", name="Remove Cy").click()
    expect(page.get_by_role("status")).to_contain_text("Cy was removed from the circle.")
    expect(section(page, "Members").locator("tr", has_text="Cy")).to_have_count(0)

    # A member leaves of her own accord.
    sign_out(page)
    sign_in_in_page(page, server.url, "bea@example.org")
    page.goto(org_url)
    open_form(page, "Leave this circle").get_by_role("button", name="Leave Acme Coop").click()
    expect(page.get_by_role("status")).to_contain_text("You left Acme Coop.")
    expect(page).to_have_url(server.url + "/")
    response = page.goto(org_url)
    assert response is not None and response.status == 404


def test_an_invitation_link_brings_a_new_person_into_the_circle(page: Page, server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    org_url = start_organisation(page, server, "Acme Coop", "Make good things together")
    give_role(page, "dee@example.org", name="Dee")
    expect(page.get_by_role("status").first).to_contain_text("dee@example.org is invited")
    link = page.locator("code.token").inner_text().strip()
    assert link.startswith(server.url + "/invitations/")

    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        guest = context.new_page()
        guest.goto(link)
        expect(guest.get_by_role("heading", level=1)).to_have_text("Dee, you are invited to Acme Coop")
        expect(guest.get_by_text("Make good things together")).to_be_visible()
        expect(guest.get_by_text("It has no standing agreements yet.")).to_be_visible()
        guest.get_by_role("link", name="Create an account to join").click()
        expect(guest.get_by_label("Name")).to_have_value("Dee")
        expect(guest.get_by_label("Email")).to_have_value("dee@example.org")
        guest.get_by_label("Password").fill(PASSWORD)
        guest.get_by_role("button", name="Sign up").click()
        expect(guest).to_have_url(link)
        guest.get_by_role("button", name="Join Acme Coop as Dee").click()
        expect(guest).to_have_url(org_url)
        expect(guest.get_by_role("status")).to_contain_text("You joined Acme Coop.")
        expect(guest.get_by_role("heading", level=1)).to_have_text("Acme Coop")
        expect(section(guest, "Members").locator("tr", has_text="Dee")).to_contain_text("member")
        # The link works once.
        response = guest.goto(link)
        assert response is not None and response.status == 404
    finally:
        context.close()

    page.reload()
    expect(section(page, "Members").locator("tr", has_text="Dee")).to_be_visible()


def test_the_circle_page_and_the_chart_fit_a_phone(page: Page, server: Server) -> None:
    create_account(server.url, "Bea Leader With A Rather Long Name", "bea.leader.with.a.long.address@example.org")
    sign_up_in_page(page, server.url, "Ada", "ada@example.org")
    org_url = start_organisation(
        page,
        server,
        "The Cooperative Of Very Long Names",
        "An aim long enough to wrap over several lines on a small phone screen, " * 3,
    )
    add_domain(page, "Finance and everything about money", "A description " * 20)
    for name in ("Bookkeeping", "Outreach and events", "Maintenance"):
        add_sub_circle(page, name)
    section(page, "Sub-circles").get_by_role("link", name="Bookkeeping").click()
    give_role(page, "bea.leader.with.a.long.address@example.org", "leader", "2099-12-31")
    expect(page.get_by_role("status")).to_contain_text("is invited as leader")
    assert accept_invitations(server.url, "bea.leader.with.a.long.address@example.org") == ["Bookkeeping"]
    page.goto(org_url)
    give_role(page, "dee.with.a.rather.long.address@example.org", "Keeper of the keys", name="Dee")
    expect(page.locator("code.token")).to_be_visible()
    for summary in ("Add a sub-circle", "Add a domain", "Invite a member or give a role", "Settings"):
        open_form(page, summary)
    page.locator("tr", has_text="Bea Leader").locator("summary", has_text="Remove").click()
    open_form(page, "Leave this circle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.locator(".crumbs").get_by_role("link", name="Org chart").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Org chart of")
    box = page.locator(".chart")
    # Three sub-circles side by side are wider than the phone: the chart scrolls in its own box...
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")
    assert box.evaluate("el => el.getBoundingClientRect().right") <= 390
    # ...and the page itself does not.
    assert page.evaluate("document.body.scrollWidth") <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
