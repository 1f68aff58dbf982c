"""The accessibility checker itself, in headless Chromium: it finds a violation and names it, with
the element, so that a page test passing means axe-core ran and found nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e import axe


def test_the_checker_finds_a_violation_and_names_the_element(page: Page) -> None:
    page.set_content(
        '<html lang="en"><title>A picture</title><main><h1>A van</h1><img src="picture.png"></main></html>'
    )
    with pytest.raises(AssertionError) as found:
        axe.check(page)
    assert "image-alt (critical): Images must have alternative text" in str(found.value)
    assert '    at img: <img src="picture.png">' in str(found.value)
    page.set_content(
        '<html lang="en"><title>A picture</title><main><h1>A van</h1><img src="picture.png" alt="A van"></main></html>'
    )
    axe.check(page)
