"""The sequence aggregate: a sequence and its steps.

- ``definitions``: creating, changing and archiving sequences.
- ``cloning``: copying a sequence and its steps.
- ``catalog``: reading sequences, steps and their status counts.

The commands are exported here."""

from seqgql.services.sequences.cloning import clone_sequence
from seqgql.services.sequences.definitions import (
    UNSET,
    SequenceResult,
    archive_sequence,
    create_sequence,
    set_sequence_active,
    update_sequence,
)

__all__ = [
    "UNSET",
    "SequenceResult",
    "archive_sequence",
    "clone_sequence",
    "create_sequence",
    "set_sequence_active",
    "update_sequence",
]
