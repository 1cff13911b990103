"""What the engine does with each answer of the transport: accepted (SENT), refused for good
(BOUNCED for an email, FAILED for an SMS), a transient failure (tried again a few times at
once, then later with backoff, FAILED after ``max_send_attempts``), our own configuration
error (no status change, no attempt counted), and a transport's bug (like transient).
Ends with the real SmtpTransport against an SMTP server that refuses one recipient.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from seqgql.clock import FrozenClock
from seqgql.domain.kinds import StepChannel
from seqgql.domain.sequence import StepSpec
from seqgql.outbound.smtp import SmtpTransport
from seqgql.outbound.transport import (
    ConfigurationError,
    PermanentFailure,
    RetryPolicy,
    TransientFailure,
)
from tests.helpers.engine import (
    EMAILS,
    TEXTS,
    Delivery,
    ScriptedTransport,
    sent_steps,
)
from tests.helpers.smtp import RecordingHandler, settings_for
from tests.helpers.workspace import Workspace

# The engine serves every workspace: a clock of its own keeps other tests' rows from being due.
pytestmark = pytest.mark.isolated_clock

# ---------------------------------------------------------------- refused for good


async def test_a_refused_email_bounces_and_the_others_are_sent(delivery: Delivery) -> None:
    seq, ids = await delivery.enrolled(3)
    transport = ScriptedTransport()
    transport.always[ids[1]] = PermanentFailure("5.1.1 No such user", code=550)
    await delivery.engine(transport).run_until_idle()

    got = await delivery.states(ids)
    assert (got[ids[1]].status, got[ids[1]].reason, got[ids[1]].next_run_at) == (
        "BOUNCED", None, None,
    )  # fmt: skip
    assert (got[ids[1]].current_step, got[ids[1]].last_sent_step) == (1, 0)
    assert transport.calls[ids[1]] == 1  # a refusal is not tried again
    for pk in (ids[0], ids[2]):
        assert (got[pk].status, got[pk].current_step, got[pk].last_sent_step) == ("ACTIVE", 2, 1)
    assert transport.accepted_for(ids) == [ids[0], ids[2]]
    rows = await delivery.activity_rows(ids)
    assert sent_steps(rows) == [(ids[0], 1), (ids[2], 1)]
    assert [(pk, kind, step) for pk, kind, step, _ in rows if kind != "SENT"] == [
        (ids[1], "BOUNCED", 1)
    ]
    detail = next(d for pk, kind, _, d in rows if kind == "BOUNCED")
    assert "550" in detail and "No such user" in detail
    assert await delivery.status_changes(seq) == [(ids[1], "ACTIVE", None, "BOUNCED", None)]


async def test_a_refused_sms_fails(delivery: Delivery) -> None:
    seq, ids = await delivery.enrolled(2, TEXTS)
    transport = ScriptedTransport()
    transport.always[ids[0]] = PermanentFailure("unreachable number")
    await delivery.engine(transport).run_until_idle()

    got = await delivery.states(ids)
    assert (got[ids[0]].status, got[ids[0]].reason, got[ids[0]].last_sent_step) == (
        "FAILED", None, 0,
    )  # fmt: skip
    assert (got[ids[1]].status, got[ids[1]].last_sent_step) == ("ACTIVE", 1)
    # outcomes are recorded as they come: the sent one first here
    rows = sorted(await delivery.activity_rows(ids), key=lambda row: row[1] != "SENT")
    assert [(pk, kind, step) for pk, kind, step, _ in rows] == [
        (ids[1], "SENT", 1), (ids[0], "FAILED", 1),
    ]  # fmt: skip
    assert "unreachable number" in rows[1][3]
    assert await delivery.status_changes(seq) == [(ids[0], "ACTIVE", None, "FAILED", None)]


# ---------------------------------------------------------------- transient failures


async def test_a_transient_failure_is_tried_again_at_once_and_sent_once(delivery: Delivery) -> None:
    seq, ids = await delivery.enrolled(1)
    transport = ScriptedTransport()
    transport.queued[ids[0]] = [TransientFailure("busy", code=451)] * 2
    engine = delivery.engine(transport, retry=RetryPolicy(attempts=3, base_delay=0))
    await engine.run_until_idle()

    assert transport.calls[ids[0]] == 3
    assert transport.accepted_for(ids) == ids
    got = (await delivery.states(ids))[ids[0]]
    assert (got.status, got.current_step, got.last_sent_step, got.send_attempts) == (
        "ACTIVE", 2, 1, 0,
    )  # fmt: skip
    assert await delivery.sent_steps(ids) == [(ids[0], 1)]
    assert await delivery.status_changes(seq) == []


async def test_a_step_still_failing_waits_longer_each_time_then_goes_out(
    delivery: Delivery, clock: FrozenClock
) -> None:
    seq, ids = await delivery.enrolled(2)
    flaky = ids[0]
    transport = ScriptedTransport()
    transport.queued[flaky] = [TransientFailure("connection refused")] * 4  # two batches' worth
    engine = delivery.engine(transport, retry_after_minutes=5, max_send_attempts=5)
    start = clock.now()

    await engine.run_until_idle()
    got = await delivery.states(ids)
    assert transport.calls[flaky] == 2  # retry.attempts quick tries
    assert (got[flaky].status, got[flaky].current_step, got[flaky].send_attempts) == (
        "ACTIVE", 1, 1,
    )  # fmt: skip
    assert got[flaky].next_run_at == start + timedelta(minutes=5)
    assert got[ids[1]].last_sent_step == 1  # the other one went out meanwhile

    clock.advance(timedelta(minutes=4))  # not yet due again: nothing is tried
    await engine.run_until_idle()
    assert transport.calls[flaky] == 2

    clock.set(start + timedelta(minutes=5))
    await engine.run_until_idle()
    got = await delivery.states(ids)
    assert transport.calls[flaky] == 4
    assert got[flaky].send_attempts == 2
    assert got[flaky].next_run_at == clock.now() + timedelta(minutes=10)  # 5 * 2**1

    clock.advance(timedelta(minutes=10))
    await engine.run_until_idle()
    got = await delivery.states(ids)
    assert transport.accepted_for([flaky]) == [flaky]
    assert (got[flaky].status, got[flaky].current_step, got[flaky].last_sent_step) == (
        "ACTIVE", 2, 1,
    )  # fmt: skip
    assert got[flaky].send_attempts == 0  # counted per step: the next starts afresh
    assert got[flaky].next_run_at == clock.now() + timedelta(days=7)
    rows = await delivery.activity_rows(ids)
    assert sorted(sent_steps(rows)) == [(ids[0], 1), (ids[1], 1)]
    # each deferral is an activity of the step (history only); the status never changed
    deferrals = [(pk, kind, step) for pk, kind, step, _ in rows if kind == "DEFERRED"]
    assert deferrals == [(flaky, "DEFERRED", 1)] * 2
    assert await delivery.status_changes(seq) == []


@pytest.mark.parametrize(("steps", "channel"), [(EMAILS, "EMAIL"), (TEXTS, "SMS")])
async def test_a_step_that_never_goes_through_fails_after_the_last_attempt(
    delivery: Delivery, clock: FrozenClock, steps: list[StepSpec], channel: str
) -> None:
    """The provider never answered: that is a failure, for an email too (not a bounce: no
    server said the address is bad)."""
    seq, ids = await delivery.enrolled(1, steps)
    transport = ScriptedTransport()
    transport.always[ids[0]] = TransientFailure("connection timed out")
    engine = delivery.engine(transport, max_send_attempts=3, retry_after_minutes=5)

    for attempt in (1, 2):
        await engine.run_until_idle()
        got = (await delivery.states(ids))[ids[0]]
        assert (got.status, got.send_attempts) == ("ACTIVE", attempt)
        assert got.next_run_at is not None
        clock.set(got.next_run_at)
    await engine.run_until_idle()

    got = (await delivery.states(ids))[ids[0]]
    assert (got.status, got.reason, got.next_run_at, got.last_sent_step) == (
        "FAILED", None, None, 0,
    )  # fmt: skip
    assert transport.calls[ids[0]] == 3 * 2  # three batches of two quick tries
    assert transport.accepted == []
    rows = await delivery.activity_rows(ids)
    assert [(kind, step) for _, kind, step, _ in rows] == [("DEFERRED", 1)] * 2 + [("FAILED", 1)]
    assert "connection timed out" in rows[0][3]
    assert await delivery.status_changes(seq) == [(ids[0], "ACTIVE", None, "FAILED", None)]


async def test_a_configuration_error_changes_nothing_and_counts_no_attempt(
    delivery: Delivery, clock: FrozenClock
) -> None:
    seq, ids = await delivery.enrolled(2)
    transport = ScriptedTransport()
    for pk in ids:
        transport.always[pk] = ConfigurationError("authentication refused", code=535)
    engine = delivery.engine(
        transport, retry=RetryPolicy(attempts=3, base_delay=0),
        max_send_attempts=2, retry_after_minutes=5,
    )  # fmt: skip

    for _ in range(3):  # more batches than max_send_attempts: still nobody fails
        await engine.run_until_idle()
        for got in (await delivery.states(ids)).values():
            assert (got.status, got.current_step, got.send_attempts) == ("ACTIVE", 1, 0)
            assert got.next_run_at == clock.now() + timedelta(minutes=5)
        clock.advance(timedelta(minutes=5))
    assert dict(transport.calls) == dict.fromkeys(ids, 3)  # once a batch: no quick retries
    assert await delivery.activity_rows(ids) == []
    assert await delivery.status_changes(seq) == []

    transport.always.clear()  # the settings were fixed
    await engine.run_until_idle()
    assert transport.accepted_for(ids) == ids
    assert await delivery.sent_steps(ids) == [(pk, 1) for pk in ids]


async def test_a_transport_bug_is_treated_like_a_transient_failure(
    delivery: Delivery, clock: FrozenClock
) -> None:
    seq, ids = await delivery.enrolled(3)
    transport = ScriptedTransport()
    transport.queued[ids[1]] = [RuntimeError("oops")]
    engine = delivery.engine(transport, retry_after_minutes=5)
    await engine.run_until_idle()

    got = await delivery.states(ids)
    assert (got[ids[1]].status, got[ids[1]].current_step, got[ids[1]].send_attempts) == (
        "ACTIVE", 1, 1,
    )  # fmt: skip
    assert got[ids[1]].next_run_at == clock.now() + timedelta(minutes=5)
    assert transport.accepted_for(ids) == [ids[0], ids[2]]  # the batch went on
    clock.advance(timedelta(minutes=5))
    await engine.run_until_idle()
    assert transport.accepted_for(ids) == [ids[0], ids[2], ids[1]]
    assert sorted(await delivery.sent_steps(ids)) == [(pk, 1) for pk in ids]
    assert await delivery.status_changes(seq) == []


# ---------------------------------------------------------------- a real SMTP server


async def test_through_smtp_a_refused_recipient_bounces_and_the_other_gets_one_email(
    delivery: Delivery, workspace: Workspace, smtp_handler: RecordingHandler, smtp_port: int
) -> None:
    seq = await delivery.sequence()
    prefix = f"Smtp{workspace.name[-6:]}"
    ids = await delivery.enroll(seq, 2, prefix=prefix)
    refused, accepted = f"{prefix.lower()}0@example.com", f"{prefix.lower()}1@example.com"
    smtp_handler.refuse[refused] = "550 5.1.1 <refused>: mailbox unavailable"
    engine = delivery.engine(SmtpTransport(settings_for(smtp_port)))

    await engine.run_until_idle()
    await engine.run_until_idle()  # nothing more is due: nothing more is sent

    assert [d.rcpt_tos for d in smtp_handler.delivered] == [[accepted]]
    message = smtp_handler.delivered[0].message
    assert message["Subject"] == f"Hello {prefix}1"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip() == f"Hi {prefix}1"
    got = await delivery.states(ids)
    assert (got[ids[0]].status, got[ids[0]].last_sent_step) == ("BOUNCED", 0)
    assert (got[ids[1]].status, got[ids[1]].current_step, got[ids[1]].last_sent_step) == (
        "ACTIVE", 2, 1,
    )  # fmt: skip
    # outcomes are recorded as they come: the sent one first here
    rows = sorted(await delivery.activity_rows(ids), key=lambda row: row[1] != "SENT")
    assert [(pk, kind, step) for pk, kind, step, _ in rows] == [
        (ids[1], "SENT", 1), (ids[0], "BOUNCED", 1),
    ]  # fmt: skip
    assert "550" in rows[1][3] and "mailbox unavailable" in rows[1][3]
    assert await delivery.status_changes(seq) == [(ids[0], "ACTIVE", None, "BOUNCED", None)]


async def test_through_smtp_two_steps_of_the_same_text_get_two_message_ids(
    delivery: Delivery, workspace: Workspace, smtp_handler: RecordingHandler, smtp_port: int
) -> None:
    """The Message-ID stands for (enrollment, step, attempt): receivers that drop repeated
    ids must never drop a real step."""
    same = StepSpec(StepChannel.EMAIL, 0, "Same body", "Same subject")
    seq = await delivery.sequence([same, same])
    prefix = f"Twice{workspace.name[-6:]}"
    await delivery.enroll(seq, 2, prefix=prefix)
    engine = delivery.engine(SmtpTransport(settings_for(smtp_port)))

    await engine.run_until_idle()

    ids = [d.message["Message-ID"] for d in smtp_handler.delivered]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert all(
        (i.startswith("<seqgql.") and i.endswith(".1.0@example.com>"))
        or i.endswith(".2.0@example.com>")
        for i in ids
    )
