"""The Mutation root, assembled from one module per area."""

from __future__ import annotations

import strawberry

from seqgql.graphql.mutations.api_token_mutations import ApiTokenMutations
from seqgql.graphql.mutations.contact_mutations import ContactMutations
from seqgql.graphql.mutations.enrollment_mutations import EnrollmentMutations
from seqgql.graphql.mutations.sequence_mutations import SequenceMutations
from seqgql.graphql.mutations.undo_mutations import UndoMutations
from seqgql.graphql.mutations.webhook_mutations import WebhookMutations


@strawberry.type(
    description="What can be changed (a VIEWER's calls are refused). Expected refusals come "
    "back as `userErrors` in the payload, and a refused call changes nothing; GraphQL errors "
    "mean a malformed request."
)
class Mutation(
    SequenceMutations,
    ContactMutations,
    EnrollmentMutations,
    UndoMutations,
    ApiTokenMutations,
    WebhookMutations,
):
    pass
