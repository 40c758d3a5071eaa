"""The transition table, walked edge by edge: every allowed move passes, every other is refused
with a message that lists what is allowed."""

from __future__ import annotations

import pytest

from ill import states as S


@pytest.mark.parametrize("status", S.STATUSES)
@pytest.mark.parametrize("new", S.SUPPLIER_STATUSES)
def test_every_supplier_status_from_every_status(status, new):
    allowed = S.allowed_supplier_statuses(status, "CopyOrLoan")
    if new in allowed:
        assert S.supplier_move(status, new) == new
    else:
        with pytest.raises(S.IllegalTransition) as refused:
            S.supplier_move(status, new)
        listing = ", ".join(allowed) if allowed else "nothing (the request is closed)"
        assert str(refused.value).endswith(f"allowed now: {listing}")


@pytest.mark.parametrize("status", S.STATUSES)
@pytest.mark.parametrize("requester", [None, S.RECEIVED, S.SHIPPED_RETURN, S.LOST])
@pytest.mark.parametrize("action", S.REQUESTER_ACTIONS)
def test_every_requester_action_from_every_state(status, requester, action):
    spec = S.ACTIONS[action]
    if status in spec.statuses and requester in spec.requester_states:
        assert S.requester_move(status, requester, action) is spec
    else:
        with pytest.raises(S.IllegalTransition, match="allowed now: "):
            S.requester_move(status, requester, action)


def test_closed_requests_take_nothing_but_a_status_request():
    for status in S.TERMINAL:
        assert S.allowed_supplier_statuses(status) == []
        # A delivered copy may still be acknowledged as received.
        extra = [S.RECEIVED] if status == S.COPY_COMPLETED else []
        assert S.allowed_actions(status, None) == [*extra, S.STATUS_REQUEST]


def test_loans_and_copies_end_differently():
    assert S.COPY_COMPLETED not in S.allowed_supplier_statuses(S.WILL_SUPPLY, "Loan")
    assert S.LOANED not in S.allowed_supplier_statuses(S.WILL_SUPPLY, "Copy")
    assert {S.LOANED, S.COPY_COMPLETED} <= set(S.allowed_supplier_statuses(S.WILL_SUPPLY))


def test_unknown_codes_are_named_as_such():
    with pytest.raises(S.IllegalTransition, match="'Shipped' is not an ISO 18626 supplier status"):
        S.supplier_move(S.WILL_SUPPLY, "Shipped")
    with pytest.raises(S.IllegalTransition, match="'Return' is not a requester action"):
        S.requester_move(S.LOANED, None, "Return")
