"""GraphiQL in a real chromium, offline: it loads from the package alone under its strict
CSP, runs the first tab's query, runs a subscription that shows a change another client
makes, and axe-core finds no serious or critical violation. (Every test here also fails
on a request to another host, a console error or a CSP violation: the ``page`` fixture.)"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.helpers.browser import PageWatch, axe_violations
from tests.helpers.processes import DemoServer

HASHED_ASSET = re.compile(r"^/assets/graphiql/[\w.-]+\.[0-9a-f]{12}\.(js|css)$")
# Each an exact rule on exact GraphiQL markup that no setting of GraphiQL 3.8 changes; the
# rest (contrast, the editors' labels, the logo link) is fixed by our page (page.css,
# start.js) and checked.
GRAPHIQL_OWN = (
    # its tab bar: <ul role="tablist"> also holds the "Add tab" <button> ...
    ("aria-required-children", ".graphiql-tabs"),
    # ... and each <li role="tab"> holds two buttons (select, close)
    ("nested-interactive", ".graphiql-tab"),
    # CodeMirror 5 scrolls its editor in a div; the keyboard reaches the editor through
    # its (labelled) textarea, which axe does not count
    ("scrollable-region-focusable", ".CodeMirror-scroll"),
)


async def open_graphiql(page: Page, demo: DemoServer) -> None:
    response = await page.goto(demo.graphql)
    assert response is not None and response.ok
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()


async def editor_text(page: Page, selector: str) -> str:
    """The text of the CodeMirror editor under ``selector`` (the visible one)."""
    text: str = await page.locator(f"{selector} .CodeMirror >> visible=true").first.evaluate(
        "el => el.CodeMirror.getValue()"
    )
    return text


async def result(page: Page) -> Any:
    text = await editor_text(page, ".result-window")
    return json.loads(text) if text.strip() else None


async def run(page: Page) -> None:
    await page.get_by_role("button", name=re.compile("Execute query")).click()


async def test_graphiql_runs_the_first_tab_offline_under_a_strict_csp(
    demo: DemoServer,
    page: Page,
    page_watch: PageWatch,
    screenshot: Callable[[str], Awaitable[Path]],
) -> None:
    loaded: list[str] = []
    page.on("response", lambda r: loaded.append(r.url))
    response = await page.goto(demo.graphql)
    assert response is not None
    policy = response.headers["content-security-policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    # the first tab explains the token and holds the example; the token is filled in
    first_tab = await editor_text(page, ".graphiql-query-editor")
    assert "API token" in first_tab and "query Sequences" in first_tab
    headers = json.loads(await editor_text(page, ".graphiql-editor-tool"))
    assert headers == {"Authorization": f"Bearer {demo.token}"}
    await run(page)
    await expect(page.locator(".result-window")).to_contain_text("Q4 Outbound")
    answer = await result(page)
    names = [e["node"]["name"] for e in answer["data"]["sequences"]["edges"]]
    assert "Live demo (minutes)" in names and "errors" not in answer
    # the explorer plugin is there
    await page.get_by_role("button", name="Show GraphiQL Explorer").click()
    await expect(page.locator(".graphiql-explorer-root")).to_be_visible()
    await screenshot("graphiql-query")  # the README's (docs/screenshots/)
    scripts = [u.removeprefix(demo.base) for u in loaded if "/assets/" in u]
    assert len(scripts) == 8 and all(HASHED_ASSET.match(u) for u in scripts), scripts
    assert all(u.startswith(demo.base) or u.startswith("data:") for u in loaded)
    await page_watch.assert_clean(page)


async def test_a_subscription_shows_a_change_made_by_another_client(
    demo: DemoServer,
    page: Page,
    page_watch: PageWatch,
    screenshot: Callable[[str], Awaitable[Path]],
) -> None:
    sequences = await demo.execute("{ sequences(first: 10) { edges { node { id name } } } }")
    live = next(
        e["node"]["id"]
        for e in sequences["sequences"]["edges"]
        if e["node"]["name"] == "Webinar follow-up"
    )
    active = (
        await demo.execute(
            """query($id: ID!) { enrollments(sequenceId: $id, first: 1,
             filter: {statuses: [ACTIVE]}) { edges { node { id } } } }""",
            {"id": live},
        )
    )["enrollments"]["edges"]
    assert active, "the demo's webinar sequence has an ACTIVE enrollment"
    await open_graphiql(page, demo)
    await page.get_by_role("tab", name="Counts").get_by_role("button", name="Counts").click()
    await page.get_by_role("button", name="Variables").click()
    await page.locator(".graphiql-editor-tool .CodeMirror >> visible=true").first.evaluate(
        "(el, id) => el.CodeMirror.setValue(JSON.stringify({sequenceId: id}))", live
    )
    await run(page)
    await expect(page.locator(".result-window")).to_contain_text("PAUSED")
    paused_before = paused_count(await result(page))
    changed = (
        await demo.execute(
            """mutation($ids: [ID!]) { pauseEnrollments(input: {selection: {ids: $ids}}) {
             changedCount userErrors { code } } }""",
            {"ids": [active[0]["node"]["id"]]},
        )
    )["pauseEnrollments"]
    assert changed == {"changedCount": 1, "userErrors": []}
    await page.wait_for_function(
        """([before]) => {
             const text = document.querySelector('.result-window .CodeMirror')
               .CodeMirror.getValue();
             const counts = JSON.parse(text).data.sequenceStatusCounts.counts;
             return counts.find(c => c.status === 'PAUSED').count === before + 1;
           }""",
        arg=[paused_before],
    )
    await screenshot("graphiql-subscription")
    assert page_watch.websockets == [demo.graphql.replace("http://", "ws://")]
    await page_watch.assert_clean(page)


def paused_count(answer: Any) -> int:
    counts = answer["data"]["sequenceStatusCounts"]["counts"]
    return int(next(c["count"] for c in counts if c["status"] == "PAUSED"))


async def test_axe_finds_no_serious_or_critical_violation(demo: DemoServer, page: Page) -> None:
    await open_graphiql(page, demo)
    await run(page)
    await expect(page.locator(".result-window")).to_contain_text("sequences")
    assert await axe_violations(page, allow=GRAPHIQL_OWN) == []
    # each exception is still needed: GraphiQL's markup still breaks that rule
    found = {v["id"] for v in await axe_violations(page)}
    assert {rule for rule, _ in GRAPHIQL_OWN} <= found


async def test_the_page_names_only_hashed_assets_and_carries_its_policy(demo: DemoServer) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        await check_page_and_assets(http, demo)


async def check_page_and_assets(http: httpx.AsyncClient, demo: DemoServer) -> None:
    page = await http.get(demo.graphql, headers={"accept": "text/html"})
    assert page.status_code == 200
    policy = dict(
        d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";")
    )
    assert "unsafe" not in policy["script-src"] and policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert f"ws://127.0.0.1:{demo.port}" in policy["connect-src"]
    assert not re.search(r"https?://(?!127\.0\.0\.1)", page.text)  # nothing off this server
    assert not re.search(r"<script(?![^>]*\b(src|type=\"application/json\"))", page.text)
    urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    assert len(urls) == 8
    for url in urls:
        asset = await http.get(demo.base + url)
        assert asset.status_code == 200 and HASHED_ASSET.match(url)
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
