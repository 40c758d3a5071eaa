"""What ILL statuses, actions and score terms are called on screen, in both languages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "New": _l("New"),
    "Submitted": _l("Waiting for library approval"),
    "Refused": _l("Refused by the library"),
    "LocalOffered": _l("Held locally"),
    "LocalSupplied": _l("Supplied locally"),
    "RequestReceived": _l("Sent to lender"),
    "ExpectToSupply": _l("Lender expects to supply"),
    "WillSupply": _l("Lender will supply"),
    "Loaned": _l("On loan"),
    "Overdue": _l("Overdue"),
    "Recalled": _l("Recalled"),
    "RetryPossible": _l("Retry possible"),
    "Unfilled": _l("Unfilled"),
    "CopyCompleted": _l("Copy delivered"),
    "LoanCompleted": _l("Loan completed"),
    "CompletedWithoutReturn": _l("Completed without return"),
    "Cancelled": _l("Cancelled"),
    "HoldReturn": _l("Hold the return"),
    "ReleaseHoldReturn": _l("Return may be sent"),
}

ACTION_LABELS = {
    "Received": _l("Mark received"),
    "ShippedReturn": _l("Shipped back"),
    "Cancel": _l("Cancel request"),
    "Renew": _l("Ask for renewal"),
    "Notification": _l("Send a note"),
    "Lost": _l("Report lost"),
    "StatusRequest": _l("Ask for status"),
    "Approve": _l("Approve and route"),
    "Refuse": _l("Refuse"),
    "SupplyLocally": _l("Supply from our shelves"),
    "RouteAnyway": _l("Route to other libraries"),
}

SUPPLIER_LABELS = {
    "ExpectToSupply": _l("Expect to supply"),
    "WillSupply": _l("Will supply"),
    "Loaned": _l("Shipped (loan)"),
    "CopyCompleted": _l("Copy delivered"),
    "RetryPossible": _l("Retry possible"),
    "Unfilled": _l("Cannot supply"),
    "Overdue": _l("Mark overdue"),
    "Recalled": _l("Recall"),
    "HoldReturn": _l("Ask to hold the return"),
    "ReleaseHoldReturn": _l("Release the hold"),
    "LoanCompleted": _l("Returned: complete"),
    "CompletedWithoutReturn": _l("Complete without return"),
}

TERM_LABELS = {
    "availability": _l("Copy available"),
    "distance": _l("District and distance"),
    "load": _l("Load today"),
    "turnaround": _l("Fill rate and speed"),
    "fairness": _l("Lend/borrow balance"),
    "fee": _l("Cost"),
}

OUTCOME_LABELS = {
    "waiting": _l("not asked yet"),
    "asked": _l("asked"),
    "supplied": _l("supplied"),
    "unfilled": _l("could not supply"),
    "timeout": _l("no answer in time"),
    "cancelled": _l("cancelled"),
    "filtered": _l("left out"),
}

SERVICE_LABELS = {"Loan": _l("Loan"), "Copy": _l("Copy"), "CopyOrLoan": _l("Copy or loan")}
LEVEL_LABELS = {"Rush": _l("Rush"), "Express": _l("Express"), "Normal": _l("Normal")}


def labels() -> dict:
    """Return every label table, for templates."""
    return {
        "status_labels": STATUS_LABELS, "action_labels": ACTION_LABELS,
        "supplier_labels": SUPPLIER_LABELS, "term_labels": TERM_LABELS,
        "outcome_labels": OUTCOME_LABELS, "service_labels": SERVICE_LABELS,
        "level_labels": LEVEL_LABELS,
    }  # fmt: skip
