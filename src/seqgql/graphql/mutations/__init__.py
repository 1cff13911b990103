"""The Mutation root, assembled from one module per area."""

from __future__ import annotations

import strawberry

from seqgql.graphql.mutations.contacts import ContactMutations
from seqgql.graphql.mutations.enrollments import EnrollmentMutations
from seqgql.graphql.mutations.sequences import SequenceMutations


@strawberry.type
class Mutation(SequenceMutations, ContactMutations, EnrollmentMutations):
    pass
