"""GraphiQL's page over HTTP (``seqgql.web.graphiql``): a browser's GET /graphql gets it
with its strict policy and no inline script; the demo token is in it only for a request on
a loopback address to an app given one (``serve --demo`` on a loopback address)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from seqgql.app import create_app
from seqgql.settings import Settings

TOKEN = "sqg_demo_token_for_the_page"


async def page_for(client: str, *, token: str | None = TOKEN, server: str = "127.0.0.1") -> str:
    app = create_app(Settings(database_url="sqlite:///unused-by-the-page.db"), demo_token=token)
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{server}") as http:
        answer = await http.get("/graphql", headers={"accept": "text/html"})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
    return answer.text


def headers_pane(page: str) -> dict[str, str]:
    block = re.search(r'<script type="application/json" id="graphiql-config">(.*?)</script>',
                      page, flags=re.S)  # fmt: skip
    assert block is not None
    config = json.loads(block.group(1))
    assert "query Sequences" in config["tabs"][0]["query"]
    assert "subscription Counts" in config["tabs"][1]["query"]
    return json.loads(config["headers"])  # type: ignore[no-any-return]


async def test_a_loopback_request_gets_the_demo_token() -> None:
    assert headers_pane(await page_for("127.0.0.1")) == {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    ("client", "server"), [("10.1.2.3", "127.0.0.1"), ("127.0.0.1", "10.1.2.3"),
                           ("203.0.113.9", "example.com")],
)  # fmt: skip
async def test_any_other_request_gets_a_placeholder(client: str, server: str) -> None:
    page = await page_for(client, server=server)
    assert TOKEN not in page
    assert headers_pane(page) == {"Authorization": "Bearer <token>"}


async def test_without_a_demo_token_the_page_has_a_placeholder() -> None:
    assert headers_pane(await page_for("127.0.0.1", token=None)) == {
        "Authorization": "Bearer <token>"
    }


async def test_the_page_loads_scripts_from_the_package_only() -> None:
    page = await page_for("127.0.0.1")
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert len(scripts) == 6  # five files and the JSON block
    assert all('src="/assets/' in s or 'type="application/json"' in s for s in scripts)
    assert "https://" not in page and "http://" not in page
