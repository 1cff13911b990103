"""The Contacts dashboard (/app) in a real chromium, offline: sign in, filter, select all
that match less one, pause with a date after the dry run, rows and counts that change, a
change by another client that appears live, a network drop that loses no change, a bulk
action by keyboard alone, axe-core, and the first load's compressed size. (Every test here
also fails on a request to another host, a console error or a CSP violation: the ``page``
fixture.) Each test works on a sequence of its own, made through the API."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.helpers.browser import PageWatch, axe_violations
from tests.helpers.processes import DemoServer

LIVE = 20_000  # ms: a generous wait for what comes over the websocket
FIRST_LOAD_BUDGET = 300 * 1024


async def call(demo: DemoServer, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL call over HTTP, as another client of the API."""
    return await demo.execute(query, variables)


@dataclass
class Made:
    sequence_id: str
    name: str
    enrollments: dict[str, str]  # contact first name -> enrollment id


async def make_sequence(demo: DemoServer, **groups: int) -> Made:
    """A sequence of its own (one email step a week away: nothing changes by itself) with
    ``groups`` contacts enrolled: ``Pausable=30`` -> Pausable00 … Pausable29."""
    name = f"Browser {uuid.uuid4().hex[:8]}"
    created = (
        await call(
            demo,
            """mutation($name: String!) { createSequence(input: {name: $name, steps: [
             {channel: EMAIL, waitMinutes: 10080, subject: "Hi", body: "Hello"}]}) {
             sequence { id } userErrors { message } } }""",
            name=name,
        )
    )["createSequence"]
    sequence_id = created["sequence"]["id"]
    contacts = [
        {
            "firstName": f"{prefix}{i:02d}",
            "lastName": "Browser",
            "email": f"{prefix.lower()}{i}@example.com",
        }
        for prefix, count in groups.items()
        for i in range(count)
    ]
    created_contacts = (
        await call(
            demo,
            """mutation($c: [ContactInput!]!) { createContacts(input: {contacts: $c}) {
             contacts { id firstName } userErrors { field message } } }""",
            c=contacts,
        )
    )["createContacts"]
    assert not created_contacts["userErrors"], created_contacts["userErrors"]
    made = created_contacts["contacts"]
    enrolled = (
        await call(
            demo,
            """mutation($s: ID!, $c: [ID!]!) { addContactsToSequence(input:
             {sequenceId: $s, contactIds: $c}) { changedCount userErrors { message } } }""",
            s=sequence_id,
            c=[c["id"] for c in made],
        )
    )["addContactsToSequence"]
    assert enrolled["changedCount"] == len(contacts), enrolled
    page = (
        await call(
            demo,
            """query($s: ID!) { enrollments(sequenceId: $s, first: 100) {
             edges { node { id contact { firstName } } } } }""",
            s=sequence_id,
        )
    )["enrollments"]["edges"]
    return Made(
        sequence_id, name, {e["node"]["contact"]["firstName"]: e["node"]["id"] for e in page}
    )


async def pause(demo: DemoServer, ids: list[str]) -> None:
    result = await call(
        demo,
        """mutation($ids: [ID!]!) { pauseEnrollments(input: {selection: {ids: $ids}}) {
             changedCount } }""",
        ids=ids,
    )
    assert result["pauseEnrollments"]["changedCount"] == len(ids)


async def sign_in(page: Page, demo: DemoServer) -> None:
    response = await page.goto(f"{demo.base}/app")
    assert response is not None and response.ok
    await page.get_by_label("API token").fill(demo.token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Sequences")).to_be_visible()


async def open_contacts(page: Page, made: Made) -> None:
    await page.get_by_role("link", name=made.name).click()
    await expect(page.get_by_role("heading", name=re.compile(made.name))).to_be_visible()
    await expect(page.locator(".connection")).to_have_text("Live", timeout=LIVE)


def row(page: Page, name: str) -> Locator:
    return page.locator("table.contacts tbody tr", has=page.get_by_role("button", name=name))


def tab_count(page: Page, status: str) -> Locator:
    return page.locator(f".tabbar .count[data-status='{status}']")


async def test_sign_in_filter_select_all_but_one_pause_with_a_date_then_a_change_appears_live(
    demo: DemoServer, page: Page, screenshot: Callable[[str], Awaitable[Path]]
) -> None:
    made = await make_sequence(demo, Pausable=30, Keeper=4)
    await sign_in(page, demo)
    listed = page.locator(f"tr[data-sequence='{made.sequence_id}']")
    await expect(listed.locator("td[data-status='ACTIVE']")).to_have_text("34")
    saved = await screenshot("dashboard-sequences")
    await open_contacts(page, made)
    await expect(tab_count(page, "ACTIVE")).to_have_text("34")

    await page.get_by_label("Search").fill("Pausable")
    await expect(page.locator("table.contacts tbody tr")).to_have_count(25)  # a page of 30
    await expect(row(page, "Keeper00 Browser")).to_have_count(0)
    await page.get_by_label("Select every contact on this page").check()
    await page.get_by_role("button", name="Select all 30 that match").click()
    await row(page, "Pausable07 Browser").get_by_role("checkbox").uncheck()  # the exception
    await expect(page.locator(".selection-bar")).to_contain_text("29 selected")

    await page.get_by_role("button", name="Pause", exact=True).click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Resume automatically on (optional)").fill("2031-03-02T09:30")
    await dialog.get_by_role("button", name="Preview (dry run)").click()
    await expect(dialog.locator(".preview")).to_contain_text("Will pause 29 of 29")
    await expect(tab_count(page, "PAUSED")).to_have_text("0")  # a dry run changes nothing
    saved_dialog = await screenshot("dashboard-dry-run")
    await dialog.get_by_role("button", name="Confirm: pause 29").click()

    await expect(page.locator(".banner")).to_contain_text("Paused 29.")
    await expect(tab_count(page, "PAUSED")).to_have_text("29", timeout=LIVE)
    await expect(tab_count(page, "ACTIVE")).to_have_text("1")  # of the 30 that match the search
    paused = row(page, "Pausable20 Browser")
    await expect(paused).to_contain_text("Paused, manually")
    await expect(paused).to_contain_text("2031")  # resumes on the date chosen
    await expect(row(page, "Pausable07 Browser")).to_contain_text("Active")

    # another client finishes the one left out: its row and the counts change live (the
    # time from the call's answer to the row showing it is printed: `pytest -rP`)
    asked = time.monotonic()
    await call(
        demo,
        """mutation($ids: [ID!]!) { finishEnrollments(input: {selection: {ids: $ids},
             reason: MEETING_BOOKED}) { changedCount } }""",
        ids=[made.enrollments["Pausable07"]],
    )
    changed = row(page, "Pausable07 Browser")
    await expect(changed).to_contain_text("Finished, meeting booked", timeout=LIVE)
    print(f"another client's change shown live {1000 * (time.monotonic() - asked):.0f} ms "
          "after its call was sent")  # fmt: skip
    await expect(changed).to_have_class("changed")
    await expect(tab_count(page, "FINISHED")).to_have_text("1", timeout=LIVE)
    await expect(tab_count(page, "ACTIVE")).to_have_text("0")
    log = page.locator(".change-log")
    await expect(log).to_contain_text("Pausable07 Browser: Active → Finished")
    await screenshot("dashboard-contacts")
    for shot in (saved, saved_dialog):  # the README's is the dry run's (docs/screenshots/)
        assert shot.stat().st_size > 10_000


async def test_changes_made_while_the_network_was_down_all_appear_after_it_returns(
    demo: DemoServer, page: Page, page_watch: PageWatch
) -> None:
    made = await make_sequence(demo, Drop=6)
    await sign_in(page, demo)
    await open_contacts(page, made)
    await expect(tab_count(page, "ACTIVE")).to_have_text("6")
    await pause(demo, [made.enrollments["Drop00"]])  # one seen live, before the drop
    await expect(row(page, "Drop00 Browser")).to_contain_text("Paused", timeout=LIVE)

    await page.context.set_offline(True)
    await expect(page.locator(".connection")).to_have_text("Reconnecting…", timeout=LIVE)
    for name in ("Drop01", "Drop02", "Drop03"):
        await pause(demo, [made.enrollments[name]])  # one call each: three changes
    await page.context.set_offline(False)

    for name in ("Drop01", "Drop02", "Drop03"):
        await expect(row(page, f"{name} Browser")).to_contain_text("Paused", timeout=LIVE)
    await expect(page.locator(".connection")).to_have_text("Live")
    await expect(tab_count(page, "PAUSED")).to_have_text("4", timeout=LIVE)
    # each change once: resumed from the last one seen (`since`), nothing twice
    log = page.locator(".change-log li[data-number]")
    await expect(log).to_have_count(4)
    numbers = [int(n) for n in await log.evaluate_all("els => els.map(e => e.dataset.number)")]
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 4))
    await expect(row(page, "Drop04 Browser")).to_contain_text("Active")
    # the browser's own words about the socket it lost while offline are not the app's
    page_watch.console_errors[:] = [
        e
        for e in page_watch.console_errors
        if not re.match(r"WebSocket connection to .* failed", e)
    ]


async def focus_by_tab(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab until ``target`` has the focus (a keyboard user's way there)."""
    for _ in range(most):
        if await target.evaluate("el => el === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


async def test_a_bulk_action_by_keyboard_alone(demo: DemoServer, page: Page) -> None:
    made = await make_sequence(demo, Keys=3)
    await sign_in(page, demo)
    await focus_by_tab(page, page.get_by_role("link", name=made.name))
    await page.keyboard.press("Enter")
    await expect(page.locator(".connection")).to_have_text("Live", timeout=LIVE)
    box = row(page, "Keys01 Browser").get_by_role("checkbox")
    await focus_by_tab(page, box)
    await page.keyboard.press("Space")
    await expect(box).to_be_checked()
    opener = page.get_by_role("button", name="Mark as finished")
    await focus_by_tab(page, opener)

    # Escape closes the dialog and gives the focus back
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_label("Reason")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(opener).to_be_focused()

    await page.keyboard.press("Enter")
    await expect(dialog.get_by_label("Reason")).to_be_focused()
    await page.keyboard.type("Changed")  # a closed select's type-ahead
    await expect(dialog.get_by_label("Reason")).to_have_value("CHANGED_JOBS")
    await focus_by_tab(page, dialog.get_by_role("button", name="Preview (dry run)"))
    await page.keyboard.press("Enter")
    confirm = dialog.get_by_role("button", name="Confirm: mark as finished 1")
    await expect(confirm).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator(".banner")).to_contain_text("Marked finished 1.")
    finished = row(page, "Keys01 Browser")
    await expect(finished).to_contain_text("Finished, changed jobs", timeout=LIVE)

    # undo, by keyboard too: the API puts it back
    await focus_by_tab(page, page.locator(".banner").get_by_role("button", name="Undo"))
    await page.keyboard.press("Enter")
    await expect(row(page, "Keys01 Browser")).to_contain_text("Active", timeout=LIVE)

    # the drawer: the contact's history, closed by Escape
    await focus_by_tab(page, page.get_by_role("button", name="Keys01 Browser"))
    await page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog", name="Keys01 Browser")
    await expect(drawer).to_contain_text("Activity")
    await page.keyboard.press("Escape")
    await expect(drawer).to_have_count(0)


async def test_no_serious_accessibility_violation(demo: DemoServer, page: Page) -> None:
    made = await make_sequence(demo, Axe=3)
    await sign_in(page, demo)
    assert await axe_violations(page) == []
    await open_contacts(page, made)
    assert await axe_violations(page) == []
    await row(page, "Axe00 Browser").get_by_role("checkbox").check()
    await page.get_by_role("button", name="Remove from sequence").click()
    await page.get_by_role("dialog").get_by_role("button", name="Preview (dry run)").click()
    await expect(page.get_by_role("dialog").locator(".preview")).to_be_visible()
    assert await axe_violations(page) == []
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Axe01 Browser").click()
    await expect(page.get_by_role("dialog")).to_contain_text("Activity")
    assert await axe_violations(page) == []


async def test_the_first_load_is_under_300_kb_compressed(demo: DemoServer, page: Page) -> None:
    finished: list[Any] = []
    page.on("requestfinished", lambda request: finished.append(request))
    await sign_in(page, demo)
    await page.wait_for_load_state("networkidle")
    sizes = {r.url: await r.sizes() for r in finished}
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes.values())
    assert total < FIRST_LOAD_BUDGET, sizes
    script = next(r for r in finished if r.url.endswith(".js"))
    response = await script.response()
    assert response is not None
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
