"""The Contacts dashboard (/app) in a real chromium, offline: sign in, filter, select all
that match less one, pause with a date after the dry run, rows and counts that change, a
change by another client that appears live, a network drop that loses no change, a bulk
action by keyboard alone, axe-core, and the first load's compressed size. (Every test here
also fails on a request to another host, a console error or a CSP violation: the ``page``
fixture.) Each test works on a sequence of its own, made through the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.helpers.browser import DemoServer, PageWatch, axe_violations

LIVE = 20_000  # ms: a generous wait for what comes over the websocket
FIRST_LOAD_BUDGET = 300 * 1024


def call(demo: DemoServer, query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL call over HTTP, as another client of the API."""
    response = httpx.post(
        demo.graphql,
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {demo.token}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@dataclass
class Made:
    sequence_id: str
    name: str
    enrollments: dict[str, str]  # contact first name -> enrollment id


def make_sequence(demo: DemoServer, **groups: int) -> Made:
    """A sequence of its own (one email step a week away: nothing changes by itself) with
    ``groups`` contacts enrolled: ``Pausable=30`` -> Pausable00 … Pausable29."""
    name = f"Browser {uuid.uuid4().hex[:8]}"
    created = call(
        demo,
        """mutation($name: String!) { createSequence(input: {name: $name, steps: [
             {channel: EMAIL, waitMinutes: 10080, subject: "Hi", body: "Hello"}]}) {
             sequence { id } userErrors { message } } }""",
        name=name,
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
    created_contacts = call(
        demo,
        """mutation($c: [ContactInput!]!) { createContacts(input: {contacts: $c}) {
             contacts { id firstName } userErrors { field message } } }""",
        c=contacts,
    )["createContacts"]
    assert not created_contacts["userErrors"], created_contacts["userErrors"]
    made = created_contacts["contacts"]
    enrolled = call(
        demo,
        """mutation($s: ID!, $c: [ID!]!) { addContactsToSequence(input:
             {sequenceId: $s, contactIds: $c}) { changedCount userErrors { message } } }""",
        s=sequence_id,
        c=[c["id"] for c in made],
    )["addContactsToSequence"]
    assert enrolled["changedCount"] == len(contacts), enrolled
    page = call(
        demo,
        """query($s: ID!) { enrollments(sequenceId: $s, first: 100) {
             edges { node { id contact { firstName } } } } }""",
        s=sequence_id,
    )["enrollments"]["edges"]
    return Made(
        sequence_id, name, {e["node"]["contact"]["firstName"]: e["node"]["id"] for e in page}
    )


def pause(demo: DemoServer, ids: list[str]) -> None:
    result = call(
        demo,
        """mutation($ids: [ID!]!) { pauseEnrollments(input: {selection: {ids: $ids}}) {
             changedCount } }""",
        ids=ids,
    )
    assert result["pauseEnrollments"]["changedCount"] == len(ids)


def sign_in(page: Page, demo: DemoServer) -> None:
    response = page.goto(f"{demo.base}/app")
    assert response is not None and response.ok
    page.get_by_label("API token").fill(demo.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sequences")).to_be_visible()


def open_contacts(page: Page, made: Made) -> None:
    page.get_by_role("link", name=made.name).click()
    expect(page.get_by_role("heading", name=re.compile(made.name))).to_be_visible()
    expect(page.locator(".connection")).to_have_text("Live", timeout=LIVE)


def row(page: Page, name: str) -> Locator:
    return page.locator("table.contacts tbody tr", has=page.get_by_role("button", name=name))


def tab_count(page: Page, status: str) -> Locator:
    return page.locator(f".tabbar .count[data-status='{status}']")


def test_sign_in_filter_select_all_but_one_pause_with_a_date_then_a_change_appears_live(
    demo: DemoServer, page: Page, screenshot: Callable[[str], Path]
) -> None:
    made = make_sequence(demo, Pausable=30, Keeper=4)
    sign_in(page, demo)
    listed = page.locator(f"tr[data-sequence='{made.sequence_id}']")
    expect(listed.locator("td[data-status='ACTIVE']")).to_have_text("34")
    saved = screenshot("dashboard-sequences")
    open_contacts(page, made)
    expect(tab_count(page, "ACTIVE")).to_have_text("34")

    page.get_by_label("Search").fill("Pausable")
    expect(page.locator("table.contacts tbody tr")).to_have_count(25)  # a page of 30
    expect(row(page, "Keeper00 Browser")).to_have_count(0)
    page.get_by_label("Select every contact on this page").check()
    page.get_by_role("button", name="Select all 30 that match").click()
    row(page, "Pausable07 Browser").get_by_role("checkbox").uncheck()  # the exception
    expect(page.locator(".selection-bar")).to_contain_text("29 selected")

    page.get_by_role("button", name="Pause", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Resume automatically on (optional)").fill("2031-03-02T09:30")
    dialog.get_by_role("button", name="Preview (dry run)").click()
    expect(dialog.locator(".preview")).to_contain_text("Will pause 29 of 29")
    expect(tab_count(page, "PAUSED")).to_have_text("0")  # a dry run changes nothing
    saved_dialog = screenshot("dashboard-dry-run")
    dialog.get_by_role("button", name="Confirm: pause 29").click()

    expect(page.locator(".banner")).to_contain_text("Paused 29.")
    expect(tab_count(page, "PAUSED")).to_have_text("29", timeout=LIVE)
    expect(tab_count(page, "ACTIVE")).to_have_text("1")  # of the 30 that match the search
    paused = row(page, "Pausable20 Browser")
    expect(paused).to_contain_text("Paused, manually")
    expect(paused).to_contain_text("2031")  # resumes on the date chosen
    expect(row(page, "Pausable07 Browser")).to_contain_text("Active")

    # another client finishes the one left out: its row and the counts change live
    call(
        demo,
        """mutation($ids: [ID!]!) { finishEnrollments(input: {selection: {ids: $ids},
             reason: MEETING_BOOKED}) { changedCount } }""",
        ids=[made.enrollments["Pausable07"]],
    )
    changed = row(page, "Pausable07 Browser")
    expect(changed).to_contain_text("Finished, meeting booked", timeout=LIVE)
    expect(changed).to_have_class("changed")
    expect(tab_count(page, "FINISHED")).to_have_text("1", timeout=LIVE)
    expect(tab_count(page, "ACTIVE")).to_have_text("0")
    expect(page.locator(".change-log")).to_contain_text("Pausable07 Browser: Active → Finished")
    screenshot("dashboard-contacts")
    for shot in (saved, saved_dialog):  # the README's is the dry run's (docs/screenshots/)
        assert shot.stat().st_size > 10_000


def test_changes_made_while_the_network_was_down_all_appear_after_it_returns(
    demo: DemoServer, page: Page, page_watch: PageWatch
) -> None:
    made = make_sequence(demo, Drop=6)
    sign_in(page, demo)
    open_contacts(page, made)
    expect(tab_count(page, "ACTIVE")).to_have_text("6")
    pause(demo, [made.enrollments["Drop00"]])  # one seen live, before the drop
    expect(row(page, "Drop00 Browser")).to_contain_text("Paused", timeout=LIVE)

    page.context.set_offline(True)
    expect(page.locator(".connection")).to_have_text("Reconnecting…", timeout=LIVE)
    for name in ("Drop01", "Drop02", "Drop03"):
        pause(demo, [made.enrollments[name]])  # one call each: three changes
    page.context.set_offline(False)

    for name in ("Drop01", "Drop02", "Drop03"):
        expect(row(page, f"{name} Browser")).to_contain_text("Paused", timeout=LIVE)
    expect(page.locator(".connection")).to_have_text("Live")
    expect(tab_count(page, "PAUSED")).to_have_text("4", timeout=LIVE)
    # each change once: resumed from the last one seen (`since`), nothing twice
    log = page.locator(".change-log li[data-number]")
    expect(log).to_have_count(4)
    numbers = [int(n) for n in log.evaluate_all("els => els.map(e => e.dataset.number)")]
    assert sorted(numbers) == list(range(min(numbers), min(numbers) + 4))
    expect(row(page, "Drop04 Browser")).to_contain_text("Active")
    # the browser's own words about the socket it lost while offline are not the app's
    page_watch.console_errors[:] = [
        e
        for e in page_watch.console_errors
        if not re.match(r"WebSocket connection to .* failed", e)
    ]


def focus_by_tab(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab until ``target`` has the focus (a keyboard user's way there)."""
    for _ in range(most):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def test_a_bulk_action_by_keyboard_alone(demo: DemoServer, page: Page) -> None:
    made = make_sequence(demo, Keys=3)
    sign_in(page, demo)
    focus_by_tab(page, page.get_by_role("link", name=made.name))
    page.keyboard.press("Enter")
    expect(page.locator(".connection")).to_have_text("Live", timeout=LIVE)
    box = row(page, "Keys01 Browser").get_by_role("checkbox")
    focus_by_tab(page, box)
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    opener = page.get_by_role("button", name="Mark as finished")
    focus_by_tab(page, opener)

    # Escape closes the dialog and gives the focus back
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(opener).to_be_focused()

    page.keyboard.press("Enter")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.type("Changed")  # a closed select's type-ahead
    expect(dialog.get_by_label("Reason")).to_have_value("CHANGED_JOBS")
    focus_by_tab(page, dialog.get_by_role("button", name="Preview (dry run)"))
    page.keyboard.press("Enter")
    confirm = dialog.get_by_role("button", name="Confirm: mark as finished 1")
    expect(confirm).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".banner")).to_contain_text("Marked finished 1.")
    expect(row(page, "Keys01 Browser")).to_contain_text("Finished, changed jobs", timeout=LIVE)

    # undo, by keyboard too: the API puts it back
    focus_by_tab(page, page.locator(".banner").get_by_role("button", name="Undo"))
    page.keyboard.press("Enter")
    expect(row(page, "Keys01 Browser")).to_contain_text("Active", timeout=LIVE)

    # the drawer: the contact's history, closed by Escape
    focus_by_tab(page, page.get_by_role("button", name="Keys01 Browser"))
    page.keyboard.press("Enter")
    drawer = page.get_by_role("dialog", name="Keys01 Browser")
    expect(drawer).to_contain_text("Activity")
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)


def test_no_serious_accessibility_violation(demo: DemoServer, page: Page) -> None:
    made = make_sequence(demo, Axe=3)
    sign_in(page, demo)
    assert axe_violations(page) == []
    open_contacts(page, made)
    assert axe_violations(page) == []
    row(page, "Axe00 Browser").get_by_role("checkbox").check()
    page.get_by_role("button", name="Remove from sequence").click()
    page.get_by_role("dialog").get_by_role("button", name="Preview (dry run)").click()
    expect(page.get_by_role("dialog").locator(".preview")).to_be_visible()
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Axe01 Browser").click()
    expect(page.get_by_role("dialog")).to_contain_text("Activity")
    assert axe_violations(page) == []


def test_the_first_load_is_under_300_kb_compressed(demo: DemoServer, page: Page) -> None:
    finished: list[Any] = []
    page.on("requestfinished", lambda request: finished.append(request))
    sign_in(page, demo)
    page.wait_for_load_state("networkidle")
    sizes = {r.url: r.sizes() for r in finished}
    total = sum(s["responseBodySize"] + s["responseHeadersSize"] for s in sizes.values())
    assert total < FIRST_LOAD_BUDGET, sizes
    script = next(r for r in finished if r.url.endswith(".js"))
    response = script.response()
    assert response is not None
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
