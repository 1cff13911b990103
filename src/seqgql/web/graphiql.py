"""GraphiQL, served from the package: the page a browser's GET /graphql answers.

Every file it loads is one of the package's assets (``static/graphiql/``: React,
ReactDOM, GraphiQL, the explorer plugin, all vendored by ``scripts/vendor_npm.py``, and
``start.js``, ours); no request leaves the server. The page carries a strict
Content-Security-Policy (``assets.content_security_policy``): it has no inline script;
what ``start.js`` needs (the first tabs, the headers pane) is a JSON data block, which
browsers never run. Subscriptions go over graphql-transport-ws to the same URL, the
headers pane sent as the connection's payload (where the server reads the token).

With ``serve --demo`` on a loopback address the demo token is filled into the headers
pane — only when the request, too, arrived on a loopback address.
"""

from __future__ import annotations

import html
import ipaddress

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from seqgql.web.assets import AssetStore, content_security_policy

TOKEN_PLACEHOLDER = "<token>"
SCRIPTS = (
    "graphiql/react.production.min.js",
    "graphiql/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
    "graphiql/plugin-explorer.umd.js",
    "graphiql/start.js",
)
STYLES = ("graphiql/graphiql.min.css", "graphiql/plugin-explorer.css", "graphiql/page.css")

WELCOME = """\
# seqgql's GraphiQL: everything here is served by this process (no CDN).
#
# Every request needs an API token. Put yours in the Headers pane below:
#   {"Authorization": "Bearer <token>"}
# `seqgql token create --email you@example.com` prints one; `seqgql serve --demo`
# prints the demo workspace's (on 127.0.0.1 it is already filled in below).
# Subscriptions run over graphql-transport-ws on this same URL: the Headers pane is sent
# as the connection's payload, so the same header signs them in.
#
# Run this (Ctrl-Enter, or the ▶ button): the sequences of your workspace with their
# counts per status. Then try the next tab: a subscription to one sequence's counts.
query Sequences {
  viewer {
    name
    email
  }
  sequences(first: 10) {
    totalCount
    edges {
      node {
        id
        name
        statusCounts {
          status
          count
        }
      }
    }
  }
}
"""

SUBSCRIPTION = """\
# Live counts of one sequence: paste a sequence's `id` (from the first tab) into the
# Variables pane, run, then change something (pause an enrollment, say) from another
# tab, or another client: a new message arrives here.
subscription Counts($sequenceId: ID!) {
  sequenceStatusCounts(sequenceId: $sequenceId) {
    total
    counts {
      status
      count
    }
  }
}
"""


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class GraphiQLPage:
    """The page, its assets named by ``assets``; ``demo_token`` filled in for loopback
    requests only."""

    def __init__(self, assets: AssetStore, demo_token: str | None = None) -> None:
        self.assets = assets
        self.demo_token = demo_token
        for name in (*SCRIPTS, *STYLES):
            assets.url_for(name)  # a missing file fails at startup, not in a browser

    def token_for(self, request: Request) -> str:
        server = request.scope.get("server")
        client = request.client
        local = (
            server is not None
            and is_loopback(server[0])
            and client is not None
            and is_loopback(client.host)
        )
        return self.demo_token if self.demo_token and local else TOKEN_PLACEHOLDER

    def config(self, request: Request) -> dict[str, object]:
        headers = orjson.dumps(
            {"Authorization": f"Bearer {self.token_for(request)}"}, option=orjson.OPT_INDENT_2
        ).decode()
        return {
            "headers": headers,  # the Headers pane's, in every tab (a new one too)
            "tabs": [
                {"query": WELCOME, "headers": headers},
                {
                    "query": SUBSCRIPTION,
                    "variables": '{"sequenceId": "paste a sequence id here"}',
                    "headers": headers,
                },
            ],
        }

    def html(self, request: Request) -> str:
        # a JSON data block: not run by the browser; "<" escaped so no text can close it
        config = orjson.dumps(self.config(request)).decode().replace("<", "\\u003c")
        styles = "\n".join(
            f'    <link rel="stylesheet" href="{html.escape(self.assets.url_for(n))}">'
            for n in STYLES
        )
        scripts = "\n".join(
            f'    <script defer src="{html.escape(self.assets.url_for(n))}"></script>'
            for n in SCRIPTS
        )
        return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>seqgql · GraphiQL</title>
    <link rel="icon" href="data:,">
{styles}
    <script type="application/json" id="graphiql-config">{config}</script>
{scripts}
  </head>
  <body>
    <main id="graphiql" aria-label="GraphiQL">Loading GraphiQL…</main>
    <noscript>GraphiQL needs JavaScript; the API itself is at this URL (POST).</noscript>
  </body>
</html>
"""

    def response(self, request: Request) -> Response:
        return HTMLResponse(
            self.html(request),
            headers={
                "content-security-policy": content_security_policy(
                    host=request.headers.get("host")
                ),
                "cache-control": "no-store",  # the token may be in it
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
            },
        )
