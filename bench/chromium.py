"""Scenario (e)'s pages in headless Chromium (Debian's, through Playwright, as tests/e2e drives
it): each signed in as its member through the sign-in form, with the live meeting page open.
A script added before the page's own notes when each response's element (`#e{seq}`) first
appears in the DOM, and when each fetch of "what you can do now" (`/now`) has replaced that
part, with the last seq the page showed when the fetch began; both by
`performance.timeOrigin + performance.now()`, the machine's clock as `time.time()` reads it.

For the baseline, the page's script is served with one change, which is what it did before
views: every event loads the whole page (`refresh()`) instead of following the event."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Browser, BrowserContext, Playwright, Route, async_playwright
from playwright.async_api import Page as Tab

from bench.pages import PAGES, VIEWS, Viewer

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WATCH = """(() => {
  const clock = () => performance.timeOrigin + performance.now();
  const bench = (window.benchSeen = { seen: {}, now: [], nowFrom: null });
  const shown = () => {
    let last = 0;
    for (const item of document.querySelectorAll('#rounds-list li[id^="e"]')) last = Math.max(last, Number(item.id.slice(1)));
    return last;
  };
  new MutationObserver((records) => {
    const at = clock();
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType !== Node.ELEMENT_NODE) continue;
        for (const element of [node, ...node.querySelectorAll('[id^="e"]')]) {
          const seq = /^e(\\d+)$/.exec(element.id);
          if (seq && !(seq[1] in bench.seen)) bench.seen[seq[1]] = at;
        }
      }
      if (record.target.id === "now" && bench.nowFrom !== null) {
        bench.now.push([bench.nowFrom, at]);
        bench.nowFrom = null;
      }
    }
  }).observe(document, { childList: true, subtree: true });
  const fetch = window.fetch;
  window.fetch = (resource, options) => {
    if (String(resource).endsWith("/now")) bench.nowFrom = shown();
    return fetch(resource, options);
  };
})();"""
FOLLOW, BASELINE = "follow(message);", "refresh();"  # meeting.js's handling of an event, and before views


async def baseline_script(route: Route) -> None:
    response = await route.fetch()
    script = await response.text()
    if script.count(FOLLOW) != 1:
        raise RuntimeError(f"meeting.js no longer has {FOLLOW!r} once: the baseline needs a new patch")
    await route.fulfill(response=response, body=script.replace(FOLLOW, BASELINE))


@dataclass
class ChromiumPage:
    viewer: Viewer
    context: BrowserContext
    tab: Tab
    first: int  # the seq the page showed when it opened

    async def visible(self, behaviour: str, concerns: dict[int, list[str] | None], last: int) -> dict[int, float]:
        """When each event after the page opened became visible: its element in the DOM, and,
        where its view named this viewer and the page follows views, their own part fetched
        after it."""
        notes: dict[str, Any] = await self.tab.evaluate("window.benchSeen")
        visible = {}
        for seq in range(self.first + 1, last + 1):
            at = notes["seen"].get(str(seq))
            if at is None:
                continue
            concerned = concerns.get(seq, [])
            if behaviour == VIEWS and (concerned is None or self.viewer.account_id in concerned):
                fetched = next((done for shown, done in notes["now"] if shown >= seq), None)
                if fetched is None:
                    continue
                at = max(at, fetched)
            visible[seq] = at / 1000
        return visible


class Chromium:
    def __init__(self) -> None:
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None

    async def __aenter__(self) -> Chromium:
        self.playwright = await async_playwright().start()
        self.browser = await self.playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.browser is not None:
            await self.browser.close()
        if self.playwright is not None:
            await self.playwright.stop()

    async def open(self, base: str, viewer: Viewer, email: str, password: str, behaviour: str) -> ChromiumPage:
        """A phone's browser of its own, signed in, with the meeting page open and connected."""
        assert self.browser is not None
        context = await self.browser.new_context(viewport={"width": 390, "height": 844})
        tab = await context.new_page()
        await tab.goto(base + "/sign-in")
        await tab.get_by_label("Email").fill(email)
        await tab.get_by_label("Password").fill(password)
        await tab.get_by_role("button", name="Sign in").click()
        await tab.get_by_role("status").filter(has_text="Signed in as").wait_for(timeout=60_000)
        await context.add_init_script(WATCH)
        if behaviour == PAGES:
            await context.route("**/static/meeting.js", baseline_script)
        await tab.goto(base + viewer.path)
        await tab.wait_for_selector('#meeting[data-state="connected"]', state="attached", timeout=60_000)
        first = int(await tab.get_attribute("#meeting", "data-seq") or 0)
        return ChromiumPage(viewer, context, tab, first)

    @staticmethod
    async def collect(
        pages: list[ChromiumPage], behaviour: str, concerns: dict[int, list[str] | None], last: int, deadline: float
    ) -> list[dict[int, float]]:
        """What each page showed, once each shows everything up to `last`, or at `deadline`."""
        while True:
            seen = [await page.visible(behaviour, concerns, last) for page in pages]
            if time.time() >= deadline or all(len(s) >= last - p.first for s, p in zip(seen, pages)):
                return seen
            await asyncio.sleep(0.1)
