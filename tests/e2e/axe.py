"""axe-core, the accessibility checker, on every page the Chromium tests visit. Each page is
checked before each click of the test on it, before it is left by `goto`, `reload`, `go_back` or
`go_forward`, and when its browser context closes, unless it is unchanged since its last check:
a page is left only by one of these, so none goes unchecked, and a form opened by a click is
checked too. A violation fails the test at once, printed with the elements it was found on.
axe-core comes from npm (tests/e2e/package.json, installed by .ci/test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Locator, Page

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"

# The check keeps the document as it checked it, to tell whether it changed since.
UNCHANGED = "() => window.axeChecked === document.documentElement.outerHTML"
RUN = """async () => {
    window.axeChecked = document.documentElement.outerHTML;
    const result = await axe.run(document);
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary})),
    }));
}"""

# What Playwright says when a navigation replaced the document while it was being checked: the
# page it went to is checked in its turn.
GONE = "Execution context was destroyed"


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now: every rule of its default run."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=AXE)
    found: list[dict[str, Any]] = page.evaluate(RUN)
    return found


def describe(url: str, found: list[dict[str, Any]]) -> str:
    lines = [f"{url}: {len(found)} accessibility violation(s) found by axe-core"]
    for violation in found:
        lines.append(f"  {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            lines.extend(f"      {line.strip()}" for line in node["summary"].splitlines() if line.strip())
    return "\n".join(lines)


def check(page: Page) -> None:
    """Asserts that the page has no violation now."""
    found = violations(page)
    assert not found, describe(page.url, found)


def check_again(page: Page) -> None:
    """Checks the page unless it is as it was when last checked."""
    if not page.url.startswith("http"):  # about:blank, before the first page
        return
    page.wait_for_load_state()
    try:
        if page.evaluate(UNCHANGED):
            return
        check(page)
    except Error as error:
        if GONE not in error.message:
            raise


def _before(check_of: Callable[[Any], Page], method: Callable[..., Any]) -> Callable[..., Any]:
    def checked_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        check_again(check_of(self))
        return method(self, *args, **kwargs)

    return checked_first


@contextmanager
def checking() -> Iterator[None]:
    """While it lasts, every page is checked as the module docstring says."""
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci --prefix tests/e2e` (bash .ci/test does)")

    def close(context: BrowserContext, *args: Any, **kwargs: Any) -> None:
        try:
            for page in context.pages:
                check_again(page)
        finally:
            close_context(context, *args, **kwargs)

    def new_context(browser: Browser, *args: Any, **kwargs: Any) -> BrowserContext:
        context = browser_context(browser, *args, **kwargs)
        context.add_init_script(path=AXE)  # sent to the browser once, not with each check
        return context

    with pytest.MonkeyPatch.context() as patch:
        close_context, browser_context = BrowserContext.close, Browser.new_context
        patch.setattr(Browser, "new_context", new_context)
        patch.setattr(Locator, "click", _before(lambda locator: locator.page, Locator.click))
        for leaving in ("goto", "reload", "go_back", "go_forward"):
            patch.setattr(Page, leaving, _before(lambda page: page, getattr(Page, leaving)))
        patch.setattr(BrowserContext, "close", close)
        yield
