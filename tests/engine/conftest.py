"""The engine tests' fixtures."""

from __future__ import annotations

import pytest

from seqgql.clock import FrozenClock
from seqgql.persistence.database import Database
from tests.helpers.engine import Delivery
from tests.helpers.workspace import Workspace


@pytest.fixture
def delivery(db: Database, clock: FrozenClock, workspace: Workspace) -> Delivery:
    """The test's sequences, enrollments and engines, in its workspace, on its clock."""
    return Delivery(db, clock, workspace.actor)
