"""Whether a contact can receive a message on a channel: one rule for the engine and
for sendMessage."""

from __future__ import annotations

import pytest

from seqgql.domain.kinds import PhoneType, StepChannel, Unreachable, unreachable

E, S = StepChannel.EMAIL, StepChannel.SMS


@pytest.mark.parametrize(
    ("channel", "email", "phone", "phone_type", "expected"),
    [
        (E, "a@b.co", None, PhoneType.UNKNOWN, None),
        (E, None, "+14155550100", PhoneType.MOBILE, Unreachable.MISSING_EMAIL),
        (S, "a@b.co", None, PhoneType.MOBILE, Unreachable.MISSING_PHONE),
        (S, None, "+14155550100", PhoneType.LANDLINE, Unreachable.LANDLINE),
        (S, None, "+14155550100", PhoneType.MOBILE, None),
        (S, None, "+14155550100", PhoneType.UNKNOWN, None),
        (E, "a@b.co", "+14155550100", PhoneType.LANDLINE, None),
    ],
)
def test_unreachable(
    channel: StepChannel, email: str | None, phone: str | None, phone_type: PhoneType,
    expected: Unreachable | None,
) -> None:  # fmt: skip
    assert unreachable(channel, email, phone, phone_type) is expected
