"""OTEL_TRACING=true: GraphQL operations traced with OpenTelemetry, to the tracer provider
the process set up (here an in-memory exporter); without it, nothing is traced."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.outbound.transport import RecordingTransport
from seqgql.settings import Settings
from tests.helpers.workspace import Workspace

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module")
def spans() -> InMemorySpanExporter:
    """The process's tracer provider (set once: OpenTelemetry allows one per process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    return _EXPORTER


async def _client(
    database_url: str, clock: FrozenClock, tracing: bool
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url, auto_migrate=False, run_engine=False, otel_tracing=tracing
    )
    app = create_app(settings, clock=clock, transport=RecordingTransport())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.mark.parametrize("tracing", [True, False])
async def test_operations_are_traced_when_asked(
    spans: InMemorySpanExporter,
    database_url: str,
    clock: FrozenClock,
    workspace: Workspace,
    tracing: bool,
) -> None:
    spans.clear()
    async for http in _client(database_url, clock, tracing):
        answer = await http.post(
            "/graphql",
            json={"query": "query TracedViewer { viewer { email } }"},
            headers={"authorization": f"Bearer {workspace.token}"},
        )
        assert answer.json()["data"]["viewer"]["email"] == f"admin@{workspace.name}.test"
    names = [span.name for span in spans.get_finished_spans()]
    if tracing:
        assert "GraphQL Query: TracedViewer" in names, names
        assert {"GraphQL Parsing", "GraphQL Validation"} <= set(names)
    else:
        assert names == []
