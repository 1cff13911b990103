"""A real browser for the tests: Debian's chromium driven by Playwright (its async API, on
the suite's event loop), against a started
`seqgql serve --demo`, with no way out to the internet.

- ``demo_server``: `seqgql serve --demo` on a fresh SQLite file and a free port, with the
  token it printed (``DemoServer.execute``: a GraphQL call with it, as another client
  makes one); stopped by its PID on leaving.
- ``launch_chromium``: /usr/bin/chromium (never a browser of Playwright's own), its host
  resolver mapping every name but 127.0.0.1 to nothing.
- ``PageWatch``: what a page did that a user would call broken: every request to another
  host (blocked, recorded), console errors, uncaught errors and Content-Security-Policy
  violations; ``assert_clean`` fails the test on any.
- ``save_screenshot``: PNGs in ``SEQGQL_SCREENSHOTS`` (or a folder of the run's own).
- ``axe_violations``: the vendored axe-core (tests/browser/vendor/) run in the page; the
  serious and critical violations.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, Route

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1"}
AXE = Path(__file__).resolve().parents[1] / "browser" / "vendor" / "axe.min.js"
# every host name resolves to nothing but the loopback address the server listens on
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--no-sandbox",  # CI runs as root
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# what the page itself reports on a CSP violation (its console and a list to read back)
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def require_chromium() -> None:
    """Skip without /usr/bin/chromium; fail instead under CI (``.ci/run`` installs it)."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} required in CI (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


async def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's chromium, headless, offline but for 127.0.0.1."""
    require_chromium()
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class PageWatch:
    """What went wrong on a page, as a user would notice it (see the module)."""

    offsite: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    websockets: list[str] = field(default_factory=list)

    async def attach(self, context: BrowserContext, page: Page) -> None:
        """Watch ``page`` (of ``context``; attach before the page loads anything)."""
        await context.route("**/*", self._route)
        await context.add_init_script(CSP_LISTENER)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("websocket", self._websocket)

    async def _route(self, route: Route) -> None:
        url = route.request.url
        if is_local(url):
            await route.continue_()
        else:
            self.offsite.append(url)
            await route.abort("blockedbyclient")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _websocket(self, socket: Any) -> None:
        self.websockets.append(socket.url)
        if not is_local(socket.url):
            self.offsite.append(socket.url)

    @staticmethod
    async def csp_violations(page: Page) -> list[str]:
        """The CSP violations the page reported (``securitypolicyviolation`` events)."""
        found: list[str] = await page.evaluate("window.__cspViolations || []")
        return found

    async def assert_clean(self, page: Page | None = None) -> None:
        """No request left 127.0.0.1, no console error, no uncaught error, and (given the
        page) no CSP violation."""
        assert self.offsite == [], f"requests to other hosts: {self.offsite}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.page_errors == [], f"uncaught errors: {self.page_errors}"
        if page is not None and not page.is_closed():
            assert await self.csp_violations(page) == [], "CSP violations"


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


def screenshot_folder() -> Path:
    """``SEQGQL_SCREENSHOTS``, or a folder of this run's own (printed by the tests)."""
    configured = os.environ.get("SEQGQL_SCREENSHOTS")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "seqgql-screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def save_screenshot(page: Page, name: str) -> Path:
    """The page as a PNG named ``name`` (letters, digits, - and _ only)."""
    if not re.fullmatch(r"[\w-]+", name):
        raise ValueError(f"a screenshot name of letters, digits, - and _: {name!r}")
    path = screenshot_folder() / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def axe_violations(
    page: Page, *, allow: tuple[tuple[str, str], ...] = ()
) -> list[dict[str, Any]]:
    """The serious and critical accessibility violations axe-core finds on the page, each
    ``{"id", "impact", "help", "targets"}``. ``allow``: (rule id, CSS selector) pairs, each
    a documented exception: a violation of that rule on an element inside that selector is
    left out (nothing else is). The vendored axe-core is run through the DevTools protocol,
    so the page's CSP (no inline script) stays as it is."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = await page.evaluate(
        """async (allow) => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          const allowed = (rule, target) => allow.some(([id, selector]) => {
            if (id !== rule || target.length !== 1) return false;
            const element = document.querySelector(target[0]);
            return element !== null && element.closest(selector) !== null;
          });
          return result.violations
            .filter((v) => v.impact === "serious" || v.impact === "critical")
            .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                          targets: v.nodes.map((n) => n.target)
                                          .filter((t) => !allowed(v.id, t))}))
            .filter((v) => v.targets.length > 0);
        }""",
        [list(pair) for pair in allow],
    )
    return found
