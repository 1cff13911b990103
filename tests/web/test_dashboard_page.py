"""GET /app: the dashboard's page, through the ASGI app — its scripts and styles at hashed
URLs served from the package (long-lived, compressed), under a strict CSP."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx

import seqgql

BUNDLE = Path(seqgql.__file__).parent / "web" / "static" / "app"
HASHED = r"/assets/app/dashboard\.[0-9a-f]{{12}}\.{ext}"


async def test_the_page_names_its_bundle_at_hashed_urls_under_a_strict_csp(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/app")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = dict(d.strip().split(" ", 1) for d in page.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"  # no inline script, no eval, no other origin
    assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert "ws://testserver" in csp["connect-src"]  # graphql-ws to this same host
    assert page.headers["cache-control"] == "no-cache"
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert len(scripts) == 1
    attributes, body = scripts[0]
    assert body.strip() == "" and 'type="module"' in attributes
    assert re.search(f'src="{HASHED.format(ext="js")}"', attributes)
    assert re.search(f'<link rel="stylesheet" href="{HASHED.format(ext="css")}">', page.text)
    assert "style=" not in page.text and "sqg_" not in page.text  # no inline style, no token


async def test_the_bundle_is_served_compressed_and_immutable(http: httpx.AsyncClient) -> None:
    page = await http.get("/app")
    for name, ext in (("dashboard.js", "js"), ("dashboard.css", "css")):
        url = re.search(HASHED.format(ext=ext), page.text)
        assert url is not None
        response = await http.get(url.group(0), headers={"accept-encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.content == (BUNDLE / name).read_bytes()  # httpx decoded the gzip
        assert int(response.headers["content-length"]) < len(response.content)
    stale = re.sub(r"\.[0-9a-f]{12}\.js", ".000000000000.js", url_of(page.text, "js"))
    assert (await http.get(stale)).status_code == 404


def url_of(text: str, ext: str) -> str:
    found = re.search(HASHED.format(ext=ext), text)
    assert found is not None
    return found.group(0)


async def test_the_page_answers_head_and_refuses_other_methods(http: httpx.AsyncClient) -> None:
    head = await http.head("/app")
    assert head.status_code == 200 and head.content == b""
    assert (await http.post("/app", content=b"{}")).status_code == 405


def test_the_bundle_fits_the_first_load_budget() -> None:
    """What a browser downloads on first load (compressed) stays far under 300 KB; the
    browser test measures the real transfer."""
    names = ("dashboard.js", "dashboard.css")
    total = sum(len(gzip.compress((BUNDLE / name).read_bytes())) for name in names)
    assert total < 100_000


async def test_the_server_root_leads_a_browser_to_the_dashboard(http: httpx.AsyncClient) -> None:
    for method in ("GET", "HEAD"):
        answer = await http.request(method, "/", follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (307, "/app")
    assert (await http.post("/")).status_code == 405
    landed = await http.get("/", follow_redirects=True)
    assert landed.url.path == "/app" and "dashboard" in landed.text.lower()
