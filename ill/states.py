"""The ILL state machine as data: which status may follow which, and who may move it.

Statuses are the ISO 18626 supplier status codes (2021 edition, with HoldReturn and
ReleaseHoldReturn), plus a few the broker needs before a lender is involved (a reader's
request waiting for its library, a local copy offered first). Requester actions are the
ISO 18626 ``action`` codes, plus the borrowing library's own decisions (approve, refuse,
supply locally, route anyway). :func:`supplier_move` and :func:`requester_move` are the one
place every change of a request is checked.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- statuses ---------------------------------------------------------------------------------

NEW = "New"  # just placed: the broker routes it (or offers a local copy) in the same step
SUBMITTED = "Submitted"  # a reader's request, waiting for the home library's staff
REFUSED = "Refused"  # the home library did not pass the reader's request on
LOCAL_OFFERED = "LocalOffered"  # the borrower holds the item itself: offered as local supply
LOCAL_SUPPLIED = "LocalSupplied"  # supplied from the borrower's own shelves

REQUEST_RECEIVED = "RequestReceived"
EXPECT_TO_SUPPLY = "ExpectToSupply"
WILL_SUPPLY = "WillSupply"
LOANED = "Loaned"
OVERDUE = "Overdue"
RECALLED = "Recalled"
RETRY_POSSIBLE = "RetryPossible"
UNFILLED = "Unfilled"
COPY_COMPLETED = "CopyCompleted"
LOAN_COMPLETED = "LoanCompleted"
COMPLETED_WITHOUT_RETURN = "CompletedWithoutReturn"
CANCELLED = "Cancelled"
HOLD_RETURN = "HoldReturn"
RELEASE_HOLD_RETURN = "ReleaseHoldReturn"

SUPPLIER_STATUSES = (
    REQUEST_RECEIVED, EXPECT_TO_SUPPLY, WILL_SUPPLY, LOANED, OVERDUE, RECALLED, RETRY_POSSIBLE,
    UNFILLED, COPY_COMPLETED, LOAN_COMPLETED, COMPLETED_WITHOUT_RETURN, CANCELLED, HOLD_RETURN,
    RELEASE_HOLD_RETURN,
)  # fmt: skip
BROKER_STATUSES = (NEW, SUBMITTED, REFUSED, LOCAL_OFFERED, LOCAL_SUPPLIED)
STATUSES = BROKER_STATUSES + SUPPLIER_STATUSES

TERMINAL = frozenset(
    {REFUSED, LOCAL_SUPPLIED, UNFILLED, COPY_COMPLETED, LOAN_COMPLETED, COMPLETED_WITHOUT_RETURN,
     CANCELLED}
)  # fmt: skip
# A lender holds the request and has not sent anything yet: its response deadline runs.
AWAITING_ANSWER = frozenset({REQUEST_RECEIVED})
# Answers of a lender that end its turn: the broker moves on to the next in the rota.
LENDER_DECLINES = frozenset({UNFILLED, RETRY_POSSIBLE})
# The item is out on loan with the borrower.
ON_LOAN = frozenset({LOANED, OVERDUE, RECALLED, HOLD_RETURN, RELEASE_HOLD_RETURN})
# Routed to a lender, nothing shipped yet: the borrower may still cancel outright.
BEFORE_SHIPPING = frozenset({REQUEST_RECEIVED, EXPECT_TO_SUPPLY, WILL_SUPPLY})

# -- supplier statuses: what may follow what --------------------------------------------------

_RETURNED = (LOAN_COMPLETED, COMPLETED_WITHOUT_RETURN)
SUPPLIER_MOVES: dict[str, frozenset[str]] = {
    REQUEST_RECEIVED: frozenset(
        {EXPECT_TO_SUPPLY, WILL_SUPPLY, LOANED, COPY_COMPLETED, RETRY_POSSIBLE, UNFILLED}
    ),
    EXPECT_TO_SUPPLY: frozenset({WILL_SUPPLY, LOANED, COPY_COMPLETED, RETRY_POSSIBLE, UNFILLED}),
    WILL_SUPPLY: frozenset({LOANED, COPY_COMPLETED, UNFILLED}),
    LOANED: frozenset({OVERDUE, RECALLED, HOLD_RETURN, *_RETURNED}),
    OVERDUE: frozenset({RECALLED, HOLD_RETURN, *_RETURNED}),
    RECALLED: frozenset({OVERDUE, HOLD_RETURN, *_RETURNED}),
    HOLD_RETURN: frozenset({RELEASE_HOLD_RETURN, COMPLETED_WITHOUT_RETURN}),
    RELEASE_HOLD_RETURN: frozenset({OVERDUE, RECALLED, HOLD_RETURN, *_RETURNED}),
}
# Statuses that only make sense for one service type.
LOAN_ONLY = frozenset({LOANED, OVERDUE, RECALLED, HOLD_RETURN, RELEASE_HOLD_RETURN, *_RETURNED})
COPY_ONLY = frozenset({COPY_COMPLETED})

# -- requester actions ------------------------------------------------------------------------

RECEIVED = "Received"
SHIPPED_RETURN = "ShippedReturn"
CANCEL = "Cancel"
RENEW = "Renew"
NOTIFICATION = "Notification"
LOST = "Lost"
STATUS_REQUEST = "StatusRequest"
# The borrowing library's own decisions (not ISO 18626 messages: nothing goes on the wire).
APPROVE = "Approve"
REFUSE = "Refuse"
SUPPLY_LOCALLY = "SupplyLocally"
ROUTE_ANYWAY = "RouteAnyway"

ISO_ACTIONS = (RECEIVED, SHIPPED_RETURN, CANCEL, RENEW, NOTIFICATION, LOST, STATUS_REQUEST)
LOCAL_ACTIONS = (APPROVE, REFUSE, SUPPLY_LOCALLY, ROUTE_ANYWAY)
REQUESTER_ACTIONS = ISO_ACTIONS + LOCAL_ACTIONS

ANY_OPEN = frozenset(set(STATUSES) - TERMINAL)


@dataclass(frozen=True)
class Action:
    """A requester action: in which statuses (and requester states) it is allowed, and its effect.

    ``to_status``/``to_requester`` None leave the value as it is; ``routes`` hands the request
    to the rota afterwards.
    """

    statuses: frozenset[str]
    requester_states: frozenset[str | None] = frozenset({None, RECEIVED, SHIPPED_RETURN})
    to_status: str | None = None
    to_requester: str | None = None
    routes: bool = False


_NOT_RETURNED = frozenset({None, RECEIVED})
ACTIONS: dict[str, Action] = {
    RECEIVED: Action(frozenset({LOANED, COPY_COMPLETED}), frozenset({None}), to_requester=RECEIVED),
    SHIPPED_RETURN: Action(
        frozenset({LOANED, OVERDUE, RECALLED, RELEASE_HOLD_RETURN}),
        _NOT_RETURNED,
        to_requester=SHIPPED_RETURN,
    ),
    CANCEL: Action(
        frozenset({SUBMITTED, LOCAL_OFFERED, RETRY_POSSIBLE, *BEFORE_SHIPPING}),
        frozenset({None}),
        to_status=CANCELLED,
    ),
    RENEW: Action(frozenset({LOANED, OVERDUE}), _NOT_RETURNED),
    NOTIFICATION: Action(ANY_OPEN),
    LOST: Action(frozenset(ON_LOAN), _NOT_RETURNED, to_requester=LOST),
    STATUS_REQUEST: Action(frozenset(STATUSES)),
    APPROVE: Action(frozenset({SUBMITTED}), frozenset({None}), routes=True),
    REFUSE: Action(frozenset({SUBMITTED}), frozenset({None}), to_status=REFUSED),
    SUPPLY_LOCALLY: Action(frozenset({LOCAL_OFFERED}), frozenset({None}), to_status=LOCAL_SUPPLIED),
    ROUTE_ANYWAY: Action(frozenset({LOCAL_OFFERED}), frozenset({None}), routes=True),
}

# Service types (ISO 18626 ServiceType) and service levels (deadline classes).
SERVICE_TYPES = ("Loan", "Copy", "CopyOrLoan")
SERVICE_LEVELS = ("Rush", "Express", "Normal")


class IllegalTransition(Exception):
    """A status or action is not allowed now; the message says what is."""


def _listing(names: list[str]) -> str:
    return ", ".join(sorted(names)) if names else "nothing (the request is closed)"


def allowed_supplier_statuses(status: str, service_type: str = "CopyOrLoan") -> list[str]:
    """Return the supplier statuses a lender may send next."""
    moves = SUPPLIER_MOVES.get(status, frozenset())
    if service_type == "Copy":
        moves = moves - LOAN_ONLY
    elif service_type == "Loan":
        moves = moves - COPY_ONLY
    return sorted(moves)


def allowed_actions(status: str, requester_state: str | None, *, local: bool = True) -> list[str]:
    """Return the requester actions allowed now (``local`` False: ISO 18626 actions only)."""
    names = REQUESTER_ACTIONS if local else ISO_ACTIONS
    return [
        name
        for name in names
        if status in ACTIONS[name].statuses and requester_state in ACTIONS[name].requester_states
    ]


def supplier_move(status: str, new_status: str, service_type: str = "CopyOrLoan") -> str:
    """Return ``new_status`` if a lender may send it now, else raise IllegalTransition."""
    if new_status not in SUPPLIER_STATUSES:
        raise IllegalTransition(
            f"{new_status!r} is not an ISO 18626 supplier status; "
            f"use one of {', '.join(SUPPLIER_STATUSES)}"
        )
    allowed = allowed_supplier_statuses(status, service_type)
    if new_status not in allowed:
        raise IllegalTransition(
            f"a lender cannot answer {new_status} to a {service_type} request that is {status}; "
            f"allowed now: {_listing(allowed)}"
        )
    return new_status


def requester_move(status: str, requester_state: str | None, action: str) -> Action:
    """Return the Action if the borrower may take it now, else raise IllegalTransition."""
    if action not in ACTIONS:
        raise IllegalTransition(
            f"{action!r} is not a requester action; use one of {', '.join(REQUESTER_ACTIONS)}"
        )
    spec = ACTIONS[action]
    if status in spec.statuses and requester_state in spec.requester_states:
        return spec
    where = f"{status}" + (f" ({requester_state})" if requester_state else "")
    return _refuse(action, where, allowed_actions(status, requester_state))


def _refuse(action: str, where: str, allowed: list[str]) -> Action:
    raise IllegalTransition(
        f"{action} is not allowed while the request is {where}; allowed now: {_listing(allowed)}"
    )
