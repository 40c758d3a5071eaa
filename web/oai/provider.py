"""The OAI-PMH 2.0 data-provider engine: six verbs over any Repository, framework-free."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from web.oai.arguments import OAIError, OAIRequest, clean_text, is_xml_text, parse_request, shown
from web.oai.dates import format_datestamp, to_utc
from web.oai.query import (
    ListQuery,
    bad_token,
    bounds,
    parse_query,
    query_from_state,
    state_int,
    state_key,
    state_str,
)
from web.oai.render import (
    add_header_only,
    add_oai_identifier,
    add_record,
    envelope,
    serialize,
    sub,
)
from web.oai.repository import (
    Key,
    MemoryRecord,
    MemoryRepository,
    MetadataFormat,
    Record,
    Repository,
    SetSpec,
    record_key,
)
from web.oai.tokens import TokenCodec, TokenError

__all__ = [
    "MemoryRecord",
    "MemoryRepository",
    "MetadataFormat",
    "OAIError",
    "OAIProvider",
    "Record",
    "Repository",
    "SetSpec",
]

_SAMPLE_ID_RE = re.compile(
    r"oai:([a-zA-Z0-9][a-zA-Z0-9\-]*(?:\.[a-zA-Z0-9][a-zA-Z0-9\-]*)+):"
    r"[a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]+\Z"
)

# After these errors the request element carries the base URL only (the spec, section 3.2).
_NO_ECHO = frozenset({"badVerb", "badArgument"})

Params = Mapping[str, Iterable[str] | str]


@dataclass
class _Call:
    """One request being answered."""

    request: OAIRequest
    root: Any
    now: datetime
    base_url: str
    payloads: list[bytes] = field(default_factory=list)  # metadata, in document order


@dataclass
class _Page:
    """Where a response sits in its list: what the resumptionToken element reports."""

    cursor: int  # position of this response's first item in the complete list
    consumed: int  # items this response used up (skipped ones included)
    more: bool
    resumed: bool
    total: int


class OAIProvider:
    """Answer OAI-PMH requests for one repository; ``handle`` returns the response document."""

    def __init__(
        self,
        repository: Repository,
        page_size: int = 100,
        token_ttl: timedelta | None = timedelta(hours=1),
        clock: Callable[[], datetime] | None = None,
        *,
        secret: bytes | None = None,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.repository = repository
        self.page_size = page_size
        self.token_ttl = token_ttl
        self._clock = clock or (lambda: datetime.now(UTC))
        # Without a shared secret, tokens die with the process (and differ between workers).
        self._tokens = TokenCodec(secret or secrets.token_bytes(32))
        self._verbs: dict[str, Callable[[_Call], None]] = {
            "Identify": self._identify,
            "ListMetadataFormats": self._list_metadata_formats,
            "ListSets": self._list_sets,
            "GetRecord": self._get_record,
            "ListIdentifiers": self._list_identifiers,
            "ListRecords": self._list_records,
        }

    def handle(
        self, params: Params, now: datetime | None = None, base_url: str | None = None
    ) -> bytes:
        """Answer one request; ``base_url`` stands in when the repository names none."""
        now = to_utc(now or self._clock()).replace(microsecond=0)
        base = clean_text(self.repository.base_url or base_url or "")
        try:
            request = parse_request(params)
        except OAIError as err:
            return self._error(now, base, None, err)
        call = _Call(request, envelope(format_datestamp(now), base, _echo(request)), now, base)
        try:
            self._verbs[request.verb](call)
        except OAIError as err:
            echo = None if err.code in _NO_ECHO else _echo(request)
            return self._error(now, base, echo, err)
        return serialize(call.root, call.payloads)

    def wsgi_app(self) -> Callable[..., Iterable[bytes]]:
        """Return a WSGI application serving this provider (GET and POST)."""
        from web.oai.wsgi import make_wsgi_app

        return make_wsgi_app(self)

    def _error(self, now: datetime, base: str, echo: dict[str, str] | None, err: OAIError) -> bytes:
        root = envelope(format_datestamp(now), base, echo)
        sub(root, "error", clean_text(err.message), code=err.code)
        return serialize(root)

    # -- Identify, ListMetadataFormats, ListSets ------------------------------------------------

    def _identify(self, call: _Call) -> None:
        repo = self.repository
        node = sub(call.root, "Identify")
        sub(node, "repositoryName", clean_text(repo.name))
        sub(node, "baseURL", call.base_url)
        sub(node, "protocolVersion", "2.0")
        for email in repo.admin_emails:
            sub(node, "adminEmail", clean_text(email))
        earliest = format_datestamp(repo.earliest_datestamp(), repo.granularity)
        sub(node, "earliestDatestamp", earliest)
        sub(node, "deletedRecord", repo.deleted_record)
        sub(node, "granularity", repo.granularity)
        sample = self._sample_identifier()
        if sample is not None:
            add_oai_identifier(node, sample.split(":")[1], sample)

    def _sample_identifier(self) -> str | None:
        """Return the first record's identifier when it follows the oai-identifier scheme."""
        formats = self.repository.metadata_formats()
        if not formats:
            return None
        first = self.repository.list(formats[0].prefix, None, None, None, None, 1)
        if first and _SAMPLE_ID_RE.match(first[0].identifier):
            return first[0].identifier
        return None

    def _list_metadata_formats(self, call: _Call) -> None:
        identifier = call.request.get("identifier")
        if identifier is not None and self.repository.get(identifier) is None:
            raise OAIError("idDoesNotExist", f"No item has the identifier '{shown(identifier)}'.")
        formats = self.repository.metadata_formats(identifier)
        if not formats:
            raise OAIError("noMetadataFormats", "No metadata formats are available for this item.")
        node = sub(call.root, "ListMetadataFormats")
        for fmt in formats:
            element = sub(node, "metadataFormat")
            sub(element, "metadataPrefix", fmt.prefix)
            sub(element, "schema", fmt.schema)
            sub(element, "metadataNamespace", fmt.namespace)

    def _list_sets(self, call: _Call) -> None:
        state = self._resume(call) if call.request.get("resumptionToken") is not None else None
        all_sets = sorted(self.repository.sets(), key=lambda s: s.spec)
        if not all_sets:
            raise OAIError("noSetHierarchy", "This repository does not support sets.")
        after = state_str(state, "k") if state else None
        cursor = state_int(state, "c") if state else 0
        remaining = [s for s in all_sets if after is None or s.spec > after]
        if not remaining:
            raise bad_token("The list this resumption token belongs to has changed; start again.")
        page = remaining[: self.page_size]
        node = sub(call.root, "ListSets")
        for set_spec in page:
            element = sub(node, "set")
            sub(element, "setSpec", set_spec.spec)
            sub(element, "setName", clean_text(set_spec.name))
        more = len(remaining) > self.page_size
        counts = _Page(cursor, len(page), more, state is not None, len(all_sets))
        self._add_token(call, node, {"v": "ListSets"}, page[-1].spec, counts)

    # -- GetRecord, ListIdentifiers, ListRecords ------------------------------------------------

    def _get_record(self, call: _Call) -> None:
        identifier = call.request.arguments["identifier"]
        prefix = call.request.arguments["metadataPrefix"]
        record = self.repository.get(identifier)
        if record is None:
            raise OAIError("idDoesNotExist", f"No item has the identifier '{shown(identifier)}'.")
        fmt = _find_format(self.repository.metadata_formats(identifier), prefix)
        node = sub(call.root, "GetRecord")
        if not add_record(node, record, fmt, self.repository.granularity, call.payloads):
            raise OAIError(
                "cannotDisseminateFormat", f"This item cannot be disseminated in '{prefix}'."
            )

    def _list_identifiers(self, call: _Call) -> None:
        self._list(call, with_metadata=False)

    def _list_records(self, call: _Call) -> None:
        self._list(call, with_metadata=True)

    def _list(self, call: _Call, with_metadata: bool) -> None:
        resumed = call.request.get("resumptionToken") is not None
        state = self._resume(call) if resumed else {}
        query = query_from_state(state) if resumed else self._new_query(call.request)
        fmt = _find_format(self.repository.metadata_formats(), query.prefix)
        if not resumed and query.set_spec is not None and not self.repository.sets():
            raise OAIError("noSetHierarchy", "This repository does not support sets.")
        after = state_key(state) if resumed else None
        page = _Page(
            cursor=state_int(state, "c") if resumed else 0,
            consumed=0,
            more=False,
            resumed=resumed,
            total=state_int(state, "n") if resumed else 0,
        )
        node = sub(call.root, call.request.verb)
        payloads = call.payloads if with_metadata else None
        written, page.consumed, last_key, page.more = self._fill(node, query, fmt, after, payloads)
        if not written or last_key is None:
            raise OAIError("noRecordsMatch", "No records match the arguments of this request.")
        if page.more and not resumed:
            page.total = self.repository.count(query.prefix, *bounds(query), query.set_spec)
        token_state = {"v": call.request.verb, **query.raw}
        self._add_token(call, node, token_state, [last_key[0].isoformat(), last_key[1]], page)

    def _fill(
        self,
        node: Any,
        query: ListQuery,
        fmt: MetadataFormat,
        after: Key | None,
        payloads: list[bytes] | None,
    ) -> tuple[int, int, Key | None, bool]:
        """Write one page (bare headers when ``payloads`` is None).

        Return (records written, records consumed, last key, more to come).
        """
        repo, granularity = self.repository, self.repository.granularity
        written = consumed = 0
        last_key = after
        while True:
            batch = repo.list(
                query.prefix, *bounds(query), query.set_spec, last_key, self.page_size + 1
            )
            more = len(batch) > self.page_size
            page = batch[: self.page_size]
            for record in page:
                if payloads is not None:
                    written += add_record(node, record, fmt, granularity, payloads)
                else:
                    written += add_header_only(node, record, granularity)
            consumed += len(page)
            if page:
                last_key = record_key(page[-1])
            # A page whose records were all skipped would be empty: carry on to the next one.
            if written or not more:
                return written, consumed, last_key, more

    def _new_query(self, request: OAIRequest) -> ListQuery:
        raw = {"m": request.arguments["metadataPrefix"]}
        for name, short in (("from", "f"), ("until", "u"), ("set", "s")):
            if request.get(name) is not None:
                raw[short] = request.arguments[name]
        return parse_query(raw, self.repository.granularity)

    # -- resumption tokens ----------------------------------------------------------------------

    def _resume(self, call: _Call) -> dict[str, Any]:
        try:
            state = self._tokens.decode(call.request.arguments["resumptionToken"])
        except TokenError as exc:
            raise bad_token(f"{exc}.") from exc
        if state.get("v") != call.request.verb:
            raise bad_token(f"This resumption token does not belong to {call.request.verb}.")
        expires = state.get("x")
        if expires is not None and (not isinstance(expires, int) or call.now.timestamp() > expires):
            raise bad_token("This resumption token has expired; start the list again.")
        return state

    def _add_token(
        self, call: _Call, node: Any, query: dict[str, Any], key: Any, page: _Page
    ) -> None:
        """Append the resumptionToken: a new one, or the empty one closing a resumed list."""
        if not page.more and not page.resumed:
            return  # a complete list in one response carries no token
        seen = page.cursor + page.consumed
        size = max(page.total, seen + (1 if page.more else 0))
        attrs = {"completeListSize": str(size), "cursor": str(page.cursor)}
        token = None
        if page.more:
            state = {**query, "k": key, "c": seen, "n": size}
            if self.token_ttl is not None:
                expires = call.now + self.token_ttl
                state["x"] = int(expires.timestamp())
                attrs["expirationDate"] = format_datestamp(expires)
            token = self._tokens.encode(state)
        sub(node, "resumptionToken", token, **attrs)


# -- helpers -------------------------------------------------------------------------------------


def _echo(request: OAIRequest) -> dict[str, str]:
    """Return the request's arguments for the <request> element (only what XML can carry)."""
    echo = {"verb": request.verb}
    echo.update({k: v for k, v in request.arguments.items() if is_xml_text(v)})
    return echo


def _find_format(formats: list[MetadataFormat], prefix: str) -> MetadataFormat:
    for fmt in formats:
        if fmt.prefix == prefix:
            return fmt
    raise OAIError("cannotDisseminateFormat", f"The metadata format '{prefix}' is not available.")
