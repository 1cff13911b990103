"""The fast path's differential tests: the stock execution context to compare with, and a
sequence with every kind of row a page shows."""

from __future__ import annotations

from datetime import timedelta

from starlette.applications import Starlette
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import Role
from seqgql.domain.selection import Selection
from seqgql.domain.status import FinishReason
from seqgql.graphql.view import GraphQLView
from seqgql.persistence.database import Database
from seqgql.services.actor import Actor
from seqgql.services.enrollments import add_contacts, finish, pause, remove
from tests.helpers.clocks import START
from tests.helpers.factories import gid, make_contacts, make_enrolled

STOCK = StrawberryGraphQLCoreExecutionContext

# every plain field of a page's node, its contact and enrolling user (and `name`, a resolver)
NODE = """
  id status reason currentStep enrolledAt nextRunAt resumeAt finishedAt updatedAt
  contact { id firstName lastName email phone phoneType timeZone optedOut createdAt name }
  enrolledBy { id name email role }"""


def view_of(app: Starlette) -> GraphQLView:
    """The app's GraphQL view (its schema, its page plans)."""
    for route in app.routes:
        view = getattr(getattr(route, "app", None), "view", None)
        if isinstance(view, GraphQLView):
            return view
    raise AssertionError("no GraphQL view in the app")


async def seed_page(db: Database, clock: FrozenClock, actor: Actor) -> str:
    """A sequence with every kind of row a page shows: statuses and reasons, contacts
    without last name or email, enrollments without an enrolling user."""
    seq, ids = await make_enrolled(db, clock, actor, 9, prefix="Fast")
    bare = await make_contacts(db, clock, actor, 3, prefix="Fastbare", last_name=None, email=None)
    result = await add_contacts(db, clock, actor, seq, bare)
    assert not result.errors, result.errors
    nobody = Actor(actor.workspace_id, None, Role.ADMIN)  # no enrolling user
    unowned = await make_contacts(db, clock, actor, 3, prefix="Slow")
    result = await add_contacts(db, clock, nobody, seq, unowned)
    assert not result.errors, result.errors
    later = START + timedelta(days=3)
    await pause(db, clock, actor, Selection(ids=(ids[0], ids[1])), resume_at=later)
    await pause(db, clock, actor, Selection(ids=(ids[2],)))
    await finish(db, clock, actor, Selection(ids=(ids[3], ids[4])), reason=FinishReason.REPLIED)
    await remove(db, clock, actor, Selection(ids=(ids[5],)))
    return gid("Sequence", seq)
