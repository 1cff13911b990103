"""Browser tests: Debian's chromium, driven by Playwright, against a started
`seqgql serve --demo` on SQLite (one per session; the tests run once, not per database).

Fixtures: ``demo`` (the server and its token), ``browser`` (chromium, offline but for
127.0.0.1), ``page`` (a fresh context and page, watched: a request to another host, a
console error, an uncaught error or a CSP violation fails the test), ``page_watch`` (what
was seen), ``screenshot`` (``await screenshot(name)`` saves a PNG). Playwright's async API
on the suite's event loop (its sync API would hold the loop for the other tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.helpers.browser import (
    PageWatch,
    launch_chromium,
    require_chromium,
    save_screenshot,
)
from tests.helpers.processes import DemoServer, demo_server


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """`seqgql serve --demo` on a fresh SQLite file, for the session's browser tests."""
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("browser-demo")) as server:
        yield server


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def page_watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
async def page(browser: Browser, page_watch: PageWatch) -> AsyncIterator[Page]:
    """A page in a fresh context (no storage shared between tests), watched; on leaving,
    the test fails if the page sent a request to another host or reported an error."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page_watch.attach(context, page)
    try:
        yield page
        await page_watch.assert_clean(page)
    finally:
        await context.close()


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], Awaitable[Path]]:
    """``await screenshot(name)``: the page as ``<name>.png`` (see ``screenshot_folder``)."""
    return lambda name: save_screenshot(page, name)
