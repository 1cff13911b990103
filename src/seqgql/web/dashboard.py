"""The live Contacts dashboard at /app: a single-page app over the public GraphQL API.

Its sources are in the repository's ``frontend/`` folder; ``npm ci && npm run build``
bundles them into ``static/app/`` (committed: a machine without Node serves the page). The
page itself is this small HTML shell naming the bundle's hashed URLs (``url_for``), sent
with the strict Content-Security-Policy (no inline script at all). It holds no data and
no token: the app signs in with a token the user pastes (kept in session storage).
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from seqgql.web.assets import AssetStore, content_security_policy

SCRIPT = "app/dashboard.js"
STYLE = "app/dashboard.css"


class DashboardPage:
    """The page's HTML, its assets named by ``assets`` (a missing bundle fails at startup)."""

    def __init__(self, assets: AssetStore) -> None:
        script = html.escape(assets.url_for(SCRIPT))
        style = html.escape(assets.url_for(STYLE))
        self.html = f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>seqgql · Contacts dashboard</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{style}">
    <script type="module" src="{script}"></script>
  </head>
  <body>
    <div id="app"><p>Loading the dashboard…</p></div>
    <noscript>The dashboard needs JavaScript; the API itself is at /graphql.</noscript>
  </body>
</html>
"""

    async def response(self, request: Request) -> Response:
        return HTMLResponse(
            self.html,
            headers={
                "content-security-policy": content_security_policy(
                    host=request.headers.get("host")
                ),
                # the shell names the current bundle: always asked for again
                "cache-control": "no-cache",
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
            },
        )
