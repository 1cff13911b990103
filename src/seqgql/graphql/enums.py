"""The domain enums, registered with GraphQL under their public names.

The classes are the domain's own (defined once, in seqgql.domain); importing this module
registers them, and the GraphQL modules import them from here so that registration
always happens first."""

from __future__ import annotations

import strawberry

from seqgql.domain.kinds import (
    ActivityKind,
    DeliveryEventKind,
    PhoneType,
    Role,
    StepChannel,
    Weekday,
)
from seqgql.domain.selection import OrderDirection
from seqgql.domain.selection import OrderField as EnrollmentOrderField
from seqgql.domain.status import EnrollmentStatus, FinishReason, SkipReason, StatusReason

for _enum, _name in (
    (EnrollmentStatus, "EnrollmentStatus"),
    (StatusReason, "StatusReason"),
    (FinishReason, "FinishReason"),
    (SkipReason, "SkipReason"),
    (Role, "Role"),
    (PhoneType, "PhoneType"),
    (StepChannel, "StepChannel"),
    (Weekday, "Weekday"),
    (ActivityKind, "ActivityKind"),
    (DeliveryEventKind, "DeliveryEventKind"),
    (EnrollmentOrderField, "EnrollmentOrderField"),
    (OrderDirection, "OrderDirection"),
):
    strawberry.enum(_enum, name=_name)

__all__ = [
    "ActivityKind",
    "DeliveryEventKind",
    "EnrollmentOrderField",
    "EnrollmentStatus",
    "FinishReason",
    "OrderDirection",
    "PhoneType",
    "Role",
    "SkipReason",
    "StatusReason",
    "StepChannel",
    "Weekday",
]
