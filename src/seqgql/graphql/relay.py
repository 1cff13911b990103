"""The generic Relay pieces: global ids, connections, edges, page info.

Global ids are Strawberry's ``relay.GlobalID`` (base64 of "Type:database id"). A
connection's total count is computed only when a client asks for it. Nothing here knows
a node type: the concrete connections live beside their node types."""

from __future__ import annotations

import asyncio
import re
from base64 import b64encode
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.relay import GlobalID, GlobalIDValueError

from seqgql.graphql.public_errors import PublicError
from seqgql.persistence.database import Database
from seqgql.persistence.types import Row
from seqgql.services.pagination import BadPageRequest, Page, PageRequest
from seqgql.services.reads import Listing

NODE_TYPES = (
    "Enrollment",
    "Sequence",
    "Contact",
    "Group",
    "User",
    "Activity",
    "BulkOperation",
    "ApiToken",
    "WebhookEndpoint",
    "WebhookDelivery",
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_DATABASE_ID = re.compile(r"[1-9][0-9]{0,18}")  # written as this API writes it
MAX_DATABASE_ID = 2**63 - 1


class InvalidId(ValueError):
    """A string that is not a global id this API gave out (or not of the type expected)."""


def to_global_id(type_name: str, pk: int) -> str:
    """``str(GlobalID(type_name, str(pk)))`` (base64 of "Type:id"), written directly: a
    page writes two per row (tests/api/test_global_ids.py checks they are the same)."""
    return b64encode(f"{type_name}:{pk}".encode()).decode()


def global_id(type_name: str, pk: int) -> strawberry.ID:
    """The global id of a row, as the GraphQL ``ID`` a node shows."""
    return strawberry.ID(to_global_id(type_name, pk))


def parse_global_id(value: str) -> tuple[str, int]:
    """The type name and database id of a global id; raises ``InvalidId``."""
    if len(value) % 4 or not _BASE64.fullmatch(value):
        raise InvalidId(f"{value!r} is not an id this API gave out")
    try:
        parsed = GlobalID.from_id(value)
    except (GlobalIDValueError, ValueError) as exc:
        raise InvalidId(f"{value!r} is not an id this API gave out") from exc
    # one spelling per id: no spaces, signs, leading zeros, underscores or other digits
    if parsed.type_name not in NODE_TYPES or not _DATABASE_ID.fullmatch(parsed.node_id):
        raise InvalidId(f"{value!r} is not an id this API gave out")
    pk = int(parsed.node_id)
    if pk > MAX_DATABASE_ID:
        raise InvalidId(f"{value!r} is not an id this API gave out")
    return parsed.type_name, pk


def from_global_id(value: str, expected: str) -> int:
    """The database id of a global id of the ``expected`` type; raises ``InvalidId``."""
    type_name, pk = parse_global_id(value)
    if type_name != expected:
        raise InvalidId(f"{value!r} is the id of a {type_name}, not of a {expected}")
    return pk


def id_argument(value: str, expected: str, argument: str) -> int:
    """``from_global_id`` of an argument: a bad id is an ``INVALID_ID`` error naming it."""
    try:
        return from_global_id(value, expected)
    except InvalidId as exc:
        raise PublicError(str(exc), code="INVALID_ID", argument=argument) from exc


T = TypeVar("T")
P = TypeVar("P")
C = TypeVar("C")

# The page arguments every list takes.
First = Annotated[
    int | None,
    strawberry.argument(
        description="Page forward: how many items at most, from the start of the list or "
        "after `after`: 0 to 100 (default 50 when neither `first` nor `last` is given). "
        "More than 100 is an error naming `first`, never clamped. Not with `last`."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Only items after this cursor: an edge's `cursor`, or "
        "`pageInfo.endCursor`, from the same list (opaque; null: from the start)."
    ),
]
Last = Annotated[
    int | None,
    strawberry.argument(
        description="Page backward: how many items at most, from the end of the list or "
        "before `before`, still returned in the list's order: 0 to 100. Not with `first`."
    ),
]
Before = Annotated[
    str | None,
    strawberry.argument(
        description="Only items before this cursor: an edge's `cursor`, or "
        "`pageInfo.startCursor`, from the same list (opaque; null: up to the end). Given "
        "without `first` or `last`, the 50 items just before it."
    ),
]


def page_request(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> PageRequest:
    """The page asked for; a bad combination or size is an error naming the argument."""
    try:
        return PageRequest(first=first, after=after, last=last, before=before)
    except BadPageRequest as exc:
        raise PublicError(str(exc), code="BAD_USER_INPUT", argument=exc.argument) from exc


@strawberry.type(description="Where a page of a connection sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow this page: when paging backward, true when "
        "`before` was given."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page: when paging forward, true when "
        "`after` was given; when paging backward, whether more items precede it."
    )
    start_cursor: str | None = strawberry.field(
        description="The cursor of the first item: pass it as `before` for the previous page."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the last item: pass it as `after` for the next page."
    )


@strawberry.type(description="One item of a page, with the cursor that points after it.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Pass as `after` to continue after this item, or as `before` for the "
        "items before it."
    )
    node: T = strawberry.field(description="The item.")


class Lazy:
    """Runs an async computation once, on first use, shared by the fields that need it."""

    def __init__(self, compute: Callable[[], Awaitable[Any]]) -> None:
        self._compute = compute
        self._task: asyncio.Future[Any] | None = None

    @classmethod
    def of(cls, value: Any) -> Lazy:
        """One whose value is already known."""
        lazy = cls(_unreachable)
        lazy._task = asyncio.get_running_loop().create_future()
        lazy._task.set_result(value)
        return lazy

    async def get(self) -> Any:
        if self._task is None:
            self._task = asyncio.ensure_future(self._compute())
        # shielded: a field cancelled (when a field beside it failed) must not cancel the
        # computation the other fields share
        return await asyncio.shield(self._task)


async def _unreachable() -> Any:
    raise AssertionError("a known value is not computed")


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(
        description="The items of this page, in the list's order, each with its cursor."
    )
    page_info: PageInfo = strawberry.field(
        description="Whether more items follow, and the cursor to continue from."
    )
    count: strawberry.Private[Lazy]

    @strawberry.field(description="How many match, over all pages.")
    async def total_count(self) -> int:
        return int(await self.count.get())


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=page.cursors[0] if page.cursors else None,
        end_cursor=page.cursors[-1] if page.cursors else None,
    )


def edges(page: Page[Row], build: Callable[[Row], T]) -> list[Edge[T]]:
    return [Edge(cursor=c, node=build(r)) for r, c in zip(page.rows, page.cursors, strict=True)]


async def listing_connection(
    cls: Callable[..., C],
    db: Database,
    listing: Listing,
    request: PageRequest,
    build: Callable[[Row], Any],
) -> C:
    """A connection (``cls``) of one page of ``listing``, its nodes built with ``build``,
    its total counted only when asked for."""
    page = await paged(listing.page(db, request))
    return cls(
        edges=edges(page, build),
        page_info=page_info(page),
        count=Lazy(lambda: listing.count(db)),
    )


async def paged(call: Awaitable[P]) -> P:
    """Turn a bad cursor into an error that names the argument."""
    try:
        return await call
    except BadPageRequest as exc:
        raise page_error(exc) from exc


def page_error(exc: BadPageRequest) -> PublicError:
    """A bad cursor (or page size) as an error that names the argument."""
    return PublicError(str(exc), code="BAD_USER_INPUT", argument=exc.argument)
