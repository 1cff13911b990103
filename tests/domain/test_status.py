"""The status model against DESIGN.md section 2, written out by hand.

The tables below restate the contract on purpose: they are not derived from
`seqgql.domain.status`, so a change to the transition table that the contract does not
allow fails here.
"""

from __future__ import annotations

import pytest

from seqgql.domain.status import (
    REASONS_BY_STATUS,
    TRANSITIONS,
    VISIBLE_BY_DEFAULT,
    Action,
    EnrollmentStatus,
    FinishReason,
    SkipReason,
    StatusReason,
    can_apply,
    is_valid_state,
    skip_reason,
    transition,
)

S = EnrollmentStatus
R = StatusReason

# Columns, in this order.
COLUMNS = (
    S.ACTIVE, S.PAUSED, S.FINISHED, S.BOUNCED, S.FAILED,
    S.NOT_SENT, S.OPTED_OUT, S.OMITTED, S.REMOVED,
)  # fmt: skip

# ok   = the action applies to an enrollment in that status
# inv  = refused: INVALID_TRANSITION
# same = refused: ALREADY_IN_STATUS (it is already where the action leads)
# enr  = refused: ALREADY_ENROLLED (the contact takes part in the sequence already)
#
# BOUNCE, FAIL and OPT_OUT: section 2 names no source statuses; a message can only bounce,
# fail or draw an opt-out while the contact is still being reached (active, paused, or a
# step not sent), and an opt-out also ends a bounced/failed one. Finished, omitted and
# removed enrollments are left as they are.
# RESUME also takes a step NOT_SENT back to ACTIVE (issue 4: resuming after the contact is
# fixed sends it), and retries a FAILED or BOUNCED step (issue 12) when the contact can now
# receive it (``if_reachable``, checked below).
MATRIX = """
              ACTIVE PAUSED FINISHED BOUNCED FAILED NOT_SENT OPTED_OUT OMITTED REMOVED
ENROLL        enr    enr    enr      enr     enr    enr      enr       enr     enr
REENROLL      enr    enr    ok       enr     enr    enr      enr       enr     ok
PAUSE         ok     same   inv      inv     inv    ok       inv       inv     inv
RESUME        same   ok     inv      ok      ok     ok       inv       inv     inv
OUT_OF_OFFICE ok     same   inv      inv     inv    inv      inv       inv     inv
REPLY         ok     ok     same     inv     inv    inv      inv       inv     inv
BOUNCE        ok     ok     inv      same    inv    ok       inv       inv     inv
FAIL          ok     ok     inv      inv     same   ok       inv       inv     inv
OPT_OUT       ok     ok     inv      ok      ok     ok       same      inv     inv
FINISH        ok     ok     same     ok      ok     ok       ok        ok      inv
REMOVE        ok     ok     ok       ok      ok     ok       ok        ok      same
COMPLETE      ok     inv    same     inv     inv    inv      inv       inv     inv
SKIP_STEP     ok     inv    inv      inv     inv    same     inv       inv     inv
RESTART       inv    inv    ok       inv     inv    inv      inv       inv     ok
MOVE_STEP     ok     ok     inv      inv     inv    ok       inv       inv     inv
MOVE          ok     ok     ok       ok      ok     ok       ok        ok      same
"""

CELL = {
    "ok": None,
    "inv": SkipReason.INVALID_TRANSITION,
    "same": SkipReason.ALREADY_IN_STATUS,
    "enr": SkipReason.ALREADY_ENROLLED,
}


def _parse_matrix() -> dict[tuple[Action, EnrollmentStatus], SkipReason | None]:
    lines = [line.split() for line in MATRIX.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert tuple(S(name) for name in header) == COLUMNS
    table: dict[tuple[Action, EnrollmentStatus], SkipReason | None] = {}
    for action_name, *cells in rows:
        assert len(cells) == len(COLUMNS), action_name
        for status, cell in zip(COLUMNS, cells, strict=True):
            table[(Action(action_name), status)] = CELL[cell]
    return table


EXPECTED = _parse_matrix()

# Where each action leads (status, fixed reason); None = no status change in this sequence.
# A reason of None for FINISH/SKIP_STEP means the caller supplies it.
EXPECTED_TARGET: dict[Action, tuple[EnrollmentStatus | None, StatusReason | None]] = {
    Action.ENROLL: (S.ACTIVE, None),
    Action.REENROLL: (S.ACTIVE, None),
    Action.PAUSE: (S.PAUSED, R.MANUAL),
    Action.RESUME: (S.ACTIVE, None),
    Action.OUT_OF_OFFICE: (S.PAUSED, R.OUT_OF_OFFICE),
    Action.REPLY: (S.FINISHED, R.REPLIED),
    Action.BOUNCE: (S.BOUNCED, None),
    Action.FAIL: (S.FAILED, None),
    Action.OPT_OUT: (S.OPTED_OUT, None),
    Action.FINISH: (S.FINISHED, None),
    Action.REMOVE: (S.REMOVED, None),
    Action.COMPLETE: (S.FINISHED, R.COMPLETED_NO_RESPONSE),
    Action.SKIP_STEP: (S.NOT_SENT, None),
    Action.RESTART: (None, None),
    Action.MOVE_STEP: (None, None),
    Action.MOVE: (S.REMOVED, R.MOVED),
}

EXPECTED_REASONS: dict[EnrollmentStatus, set[StatusReason]] = {
    S.ACTIVE: set(),
    # ACTIVE_IN_OTHER_SEQUENCE: the rule whileActiveElsewhere (issue 12, point 7)
    S.PAUSED: {R.MANUAL, R.OUT_OF_OFFICE, R.ACTIVE_IN_OTHER_SEQUENCE},
    S.FINISHED: {
        R.REPLIED,
        R.MEETING_BOOKED,
        R.UNSUBSCRIBED,
        R.CHANGED_JOBS,
        R.NO_LONGER_NEEDED,
        R.OTHER,
        R.COMPLETED_NO_RESPONSE,
        R.COMPANY_REPLIED,
    },
    S.BOUNCED: set(),
    S.FAILED: set(),
    S.NOT_SENT: {R.MISSING_EMAIL, R.MISSING_PHONE, R.BLOCKED_BY_RULE},
    S.OPTED_OUT: set(),
    S.OMITTED: {R.OPTED_OUT, R.LANDLINE},
    S.REMOVED: {R.MOVED},
}
# where no reason is allowed too: removeEnrollments' REMOVED has none, a move's is MOVED
EXPECTED_OPTIONAL = {S.REMOVED}


def test_the_tables_cover_every_status_and_action() -> None:
    assert set(COLUMNS) == set(EnrollmentStatus)
    assert {a for a, _ in EXPECTED} == set(Action)
    assert set(EXPECTED_TARGET) == set(Action)
    assert set(EXPECTED_REASONS) == set(EnrollmentStatus)


@pytest.mark.parametrize(("action", "status"), sorted(EXPECTED), ids=lambda v: str(v))
def test_every_action_in_every_status(action: Action, status: EnrollmentStatus) -> None:
    expected = EXPECTED[(action, status)]
    assert can_apply(action, status) is (expected is None)
    assert skip_reason(action, status) == expected


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_where_each_action_leads(action: Action) -> None:
    rule = transition(action)
    assert (rule.to_status, rule.to_reason) == EXPECTED_TARGET[action]
    if rule.to_status is not None and rule.to_reason is not None:
        assert is_valid_state(rule.to_status, rule.to_reason)
    if rule.to_status is not None and (
        not EXPECTED_REASONS[rule.to_status] or rule.to_status in EXPECTED_OPTIONAL
    ):
        assert is_valid_state(rule.to_status, None)


def test_reasons_by_status_match_the_contract() -> None:
    assert {s: set(r) for s, r in REASONS_BY_STATUS.items()} == EXPECTED_REASONS


@pytest.mark.parametrize("status", list(EnrollmentStatus), ids=str)
def test_valid_and_invalid_status_reason_combinations(status: EnrollmentStatus) -> None:
    allowed = EXPECTED_REASONS[status]
    for reason in REASONS_BY_STATUS[status]:
        assert is_valid_state(status, reason), (status, reason)
    for reason in [None, *StatusReason]:
        if reason is None:
            expected = not allowed or status in EXPECTED_OPTIONAL
        else:
            expected = reason in allowed
        assert is_valid_state(status, reason) is expected, (status, reason)


def test_finish_reasons_are_the_user_choosable_finished_reasons() -> None:
    assert {f.value for f in FinishReason} == {
        "REPLIED", "MEETING_BOOKED", "UNSUBSCRIBED", "CHANGED_JOBS", "NO_LONGER_NEEDED", "OTHER",
    }  # fmt: skip
    for finish in FinishReason:
        assert finish.status_reason == StatusReason(finish.value)
        assert is_valid_state(S.FINISHED, finish.status_reason)
        assert finish.status_reason in EXPECTED_REASONS[S.FINISHED]
    # "finished, no response" is the engine's to give, not a user's
    assert "COMPLETED_NO_RESPONSE" not in {f.value for f in FinishReason}


def test_removed_enrollments_are_hidden_by_default() -> None:
    assert set(EnrollmentStatus) - VISIBLE_BY_DEFAULT == {S.REMOVED}


def test_only_a_retry_depends_on_the_contact_being_reachable() -> None:
    for action, rule in TRANSITIONS.items():
        assert rule.if_reachable <= rule.allowed_from, action
        if action is not Action.RESUME:
            assert rule.if_reachable == frozenset(), action
    assert TRANSITIONS[Action.RESUME].if_reachable == {S.FAILED, S.BOUNCED}
