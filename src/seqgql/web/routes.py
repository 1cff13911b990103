"""The routes of what a browser loads, for ``create_app``: the package's assets at their
hashed URLs and the dashboard's page at /app, where / leads (GraphiQL's page itself is
answered by the /graphql view, through ``graphiql_page``)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from seqgql.settings import Settings
from seqgql.web.assets import package_assets
from seqgql.web.dashboard import DashboardPage
from seqgql.web.graphiql import GraphiQLPage


def web_routes(settings: Settings) -> list[BaseRoute]:
    """Every route of the browser side: the assets under ``/assets/``, the dashboard."""
    assets = package_assets()
    dashboard = DashboardPage(assets)
    return [
        *assets.routes(),
        Route("/app", dashboard.response, methods=["GET", "HEAD"]),
        Route("/", _to_dashboard, methods=["GET", "HEAD"]),  # a browser opening the server
    ]


async def _to_dashboard(_request: Request) -> Response:
    return RedirectResponse("/app", status_code=307)


def graphiql_page(demo_token: str | None = None) -> Callable[[Request], Response]:
    """What a browser's GET /graphql answers: GraphiQL from the package, ``demo_token``
    (what ``serve --demo`` on a loopback address passes) filled in for loopback requests."""
    return GraphiQLPage(package_assets(), demo_token=demo_token).response
