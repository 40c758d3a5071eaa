"""The query of a ListIdentifiers/ListRecords request and the state sealed in its tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from web.oai.arguments import OAIError, shown
from web.oai.dates import DAY, SECONDS, RequestDate, parse_request_date
from web.oai.repository import Key


@dataclass(frozen=True)
class ListQuery:
    """A ListIdentifiers/ListRecords query, as sealed into its resumption tokens."""

    prefix: str
    from_: RequestDate | None
    until: RequestDate | None
    set_spec: str | None
    raw: dict[str, str]  # the arguments as given: {"m", "f", "u", "s"}


def bad_token(message: str) -> OAIError:
    """Return a badResumptionToken error with ``message``."""
    return OAIError("badResumptionToken", message)


def bounds(query: ListQuery) -> tuple[datetime | None, datetime | None]:
    """Return the inclusive (from, until) instants handed to the repository."""
    return (
        query.from_.start if query.from_ else None,
        query.until.end() if query.until else None,
    )


def _parse_date(name: str, text: str, granularity: str) -> RequestDate:
    try:
        parsed = parse_request_date(text)
    except ValueError as exc:
        raise OAIError(
            "badArgument", f"'{shown(text)}' is not a valid '{name}' date (use YYYY-MM-DD)."
        ) from exc
    if parsed.granularity == SECONDS and granularity == DAY:
        raise OAIError("badArgument", f"This repository supports day granularity only ('{name}').")
    return parsed


def parse_query(raw: dict[str, str], granularity: str) -> ListQuery:
    """Check the dates of a new query against each other and the repository's granularity."""
    from_ = _parse_date("from", raw["f"], granularity) if "f" in raw else None
    until = _parse_date("until", raw["u"], granularity) if "u" in raw else None
    if from_ and until:
        if from_.granularity != until.granularity:
            raise OAIError("badArgument", "'from' and 'until' must have the same granularity.")
        if from_.start > until.start:
            raise OAIError("badArgument", "'from' is later than 'until'.")
    return ListQuery(raw["m"], from_, until, raw.get("s"), raw)


def query_from_state(state: dict[str, Any]) -> ListQuery:
    """Return the query sealed in a token's state."""
    try:
        raw = {k: state[k] for k in ("m", "f", "u", "s") if k in state}
        if not all(isinstance(v, str) for v in raw.values()):
            raise TypeError("query values must be strings")
        return parse_query(raw, SECONDS)
    except (KeyError, TypeError, OAIError) as exc:
        raise bad_token("The resumption token is garbled.") from exc


def state_key(state: dict[str, Any]) -> Key:
    """Return the (datestamp, identifier) key after which the next page starts."""
    try:
        stamp, identifier = state["k"]
        parsed = datetime.fromisoformat(stamp)
        if not isinstance(identifier, str) or parsed.tzinfo is None:
            raise TypeError("bad key")
        return (parsed, identifier)
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_token("The resumption token is garbled.") from exc


def state_int(state: dict[str, Any], name: str) -> int:
    """Return a non-negative integer field of a token's state."""
    value = state.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad_token("The resumption token is garbled.")
    return value


def state_str(state: dict[str, Any], name: str) -> str:
    """Return a string field of a token's state."""
    value = state.get(name)
    if not isinstance(value, str):
        raise bad_token("The resumption token is garbled.")
    return value
