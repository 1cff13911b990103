"""The browser harness sees what it must (or every browser test could pass blind): a
request to another host is blocked and recorded, console and uncaught errors are caught,
and the GraphiQL page's CSP refuses an inline script, which the watch reports."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page

from tests.helpers.browser import PageWatch
from tests.helpers.processes import DemoServer


@pytest.fixture
async def watched(browser: Browser) -> AsyncIterator[tuple[Page, PageWatch]]:
    """A page watched as the ``page`` fixture's is, but not failed on leaving."""
    context = await browser.new_context()
    page = await context.new_page()
    watch = PageWatch()
    await watch.attach(context, page)
    try:
        yield page, watch
    finally:
        await context.close()


async def test_requests_elsewhere_are_blocked_and_recorded(
    demo: DemoServer, watched: tuple[Page, PageWatch]
) -> None:
    page, watch = watched
    await page.goto(f"{demo.base}/healthz")  # a page without a CSP (GraphiQL's would refuse first)
    outcome = await page.evaluate(
        """() => fetch("https://cdn.example.com/react.js").then(() => "loaded", () => "failed")"""
    )
    assert outcome == "failed"
    await page.evaluate("() => { new WebSocket('wss://cdn.example.com/socket'); }")
    await page.wait_for_function("() => true")  # the websocket event is delivered in order
    assert "https://cdn.example.com/react.js" in watch.offsite
    assert "wss://cdn.example.com/socket" in watch.offsite
    with pytest.raises(AssertionError, match="requests to other hosts"):
        await watch.assert_clean(page)


async def test_console_and_uncaught_errors_are_caught(
    demo: DemoServer, watched: tuple[Page, PageWatch]
) -> None:
    page, watch = watched
    await page.goto(demo.graphql)
    await page.evaluate("() => console.error('something broke')")
    await page.evaluate("() => setTimeout(() => { throw new Error('boom'); })")
    await page.wait_for_function("() => new Promise((ok) => setTimeout(() => ok(true), 50))")
    assert watch.console_errors == ["something broke"]
    assert any("boom" in error for error in watch.page_errors)
    with pytest.raises(AssertionError, match="console errors"):
        await watch.assert_clean(page)


async def test_the_pages_csp_refuses_an_inline_script_and_the_watch_reports_it(
    demo: DemoServer, watched: tuple[Page, PageWatch]
) -> None:
    page, watch = watched
    await page.goto(demo.graphql)
    ran = await page.evaluate(
        """() => new Promise((done) => {
             document.addEventListener("securitypolicyviolation", () => done(window.ran));
             const script = document.createElement("script");
             script.textContent = "window.ran = true";
             document.head.appendChild(script);
           })"""
    )
    assert ran is None  # the inline script never ran
    assert await watch.csp_violations(page) == ["script-src-elem inline"]
