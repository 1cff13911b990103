"""The domain enums, projected into GraphQL under their public names (defined once)."""

from __future__ import annotations

import strawberry

from seqgql.domain import kinds, selection, status

EnrollmentStatus = strawberry.enum(status.EnrollmentStatus, name="EnrollmentStatus")
StatusReason = strawberry.enum(status.StatusReason, name="StatusReason")
FinishReason = strawberry.enum(status.FinishReason, name="FinishReason")
SkipReason = strawberry.enum(status.SkipReason, name="SkipReason")
Role = strawberry.enum(kinds.Role, name="Role")
PhoneType = strawberry.enum(kinds.PhoneType, name="PhoneType")
StepChannel = strawberry.enum(kinds.StepChannel, name="StepChannel")
Weekday = strawberry.enum(kinds.Weekday, name="Weekday")
ActivityKind = strawberry.enum(kinds.ActivityKind, name="ActivityKind")
DeliveryEventKind = strawberry.enum(kinds.DeliveryEventKind, name="DeliveryEventKind")
EnrollmentOrderField = strawberry.enum(selection.OrderField, name="EnrollmentOrderField")
OrderDirection = strawberry.enum(selection.OrderDirection, name="OrderDirection")
