"""The ListRecords loop of one run: pages in, records and a checkpoint out, page by page.

Each page is parsed in a prefetch thread while the previous page is being stored; each
record's metadata element goes straight to the metadata parser, and its serialised payload is
kept compressed so parsers can be re-run without harvesting again. Pages of long lists are
shared with a worker process that parses and normalises them from the page's bytes
(``offload.py``), so the Python parsers use both cores.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from federation.db import Database
from harvesters.client import OAIClient
from harvesters.errors import BadResumptionToken, EndpointMismatch, HarvestError
from harvesters.offload import Offload
from harvesters.pages import DAY, Identity, Item, Page
from harvesters.parsers import RecordRejected, compile_holdings_config, parse_metadata
from harvesters.pipeline import Behind, prefetch
from harvesters.runs import (
    RunSummary,
    check_member,
    fail_stale_runs,
    finish_run,
    get_run,
    latest_run,
    start_run,
    summarise,
    update_run,
)
from harvesters.store import (
    MAX_IDENTIFIER,
    MAX_TOKEN,
    Checkpoint,
    PageCounts,
    StoredRecord,
    bib_to_json,
    compress,
    save_page,
)

log = logging.getLogger(__name__)

MAX_RESTARTS = 3  # badResumptionToken restarts allowed in one run
LIST_KINDS = ("full", "incremental")
Progress = Callable[[str, int, int | None], None]  # (member code, records so far, expected)


def run_harvest(
    db: Database, client: OAIClient, member, *, full: bool = False, progress: Progress | None = None
) -> RunSummary:
    """Run (or resume) one member's ListRecords harvest; call with the member lock held."""
    check_member(db, member.code)
    resume = _resumable(db, member, full)
    fail_stale_runs(db, member.code, keep=resume.id if resume else None)
    if resume is not None:
        run_id = resume.id
        log.info("%s: resuming run %d after page %d", member.code, run_id, resume.pages)
    else:
        last = None if full else _last_comparable(db, member)
        kind = "incremental" if last is not None else "full"
        run_id = start_run(db, member.code, kind, member.oai.metadata_prefix)
    state = None
    try:
        identity = _check_endpoint(client, member)
        state = _list_state(db, run_id, member, identity, resume, last if not resume else None)
        sets, token = _remaining_sets(member, resume)
        harvest_sets(db, client, state, sets, token, progress)
    except HarvestError as exc:
        log.warning("%s: harvest failed: %s", member.code, exc)
        finish_run(db, run_id, "failed", str(exc), retries=_retries(db, run_id, client, state))
        return summarise(get_run(db, run_id), state.totals.unchanged if state else 0)
    except Exception as exc:  # a bug or a database failure: record it, then let it surface
        finish_run(db, run_id, "failed", f"internal error: {type(exc).__name__}: {exc}")
        raise
    finish_run(
        db,
        run_id,
        "completed",
        retries=_retries(db, run_id, client, state),
        set_spec=",".join(member.oai.sets) or None,
    )
    return summarise(get_run(db, run_id), state.totals.unchanged)


def _last_comparable(db: Database, member):
    """Return the last completed run an incremental harvest can follow, or None (go full).

    It must have asked the same format and the same sets (a completed run keeps its sets
    comma-joined in set_spec; commas cannot occur in a setSpec) and know its responseDate.
    """
    last = latest_run(db, member.code, LIST_KINDS, "completed")
    if last is None or not last.response_date:
        return None
    if last.metadata_prefix != member.oai.metadata_prefix:
        return None
    if (last.set_spec or "") != ",".join(member.oai.sets):
        return None
    return last


def _retries(db: Database, run_id: int, client: OAIClient, state) -> int:
    """Return the run's retries: those saved with pages plus those made since."""
    unsaved = client.retries - (state.saved_retries if state is not None else 0)
    return get_run(db, run_id).retries + unsaved


def _resumable(db: Database, member, full: bool):
    """Return the member's killed list run to continue, or None."""
    run = latest_run(db, member.code, LIST_KINDS)
    if run is None or run.status != "running":
        return None
    if run.metadata_prefix != member.oai.metadata_prefix:
        return None
    if full and run.kind != "full":
        return None
    if run.set_spec is not None and run.set_spec not in member.oai.sets:
        return None
    return run


def _check_endpoint(client: OAIClient, member) -> Identity:
    """Ask Identify, ListMetadataFormats and (with sets) ListSets; check the alliance file."""
    identity = client.identify()
    formats = client.metadata_formats()
    if member.oai.metadata_prefix not in formats:
        raise EndpointMismatch(
            f"{member.oai.base_url} does not offer the metadata format "
            f"'{member.oai.metadata_prefix}' named in the alliance file; it offers: "
            f"{', '.join(formats) or 'none'}"
        )
    if member.oai.sets:
        offered = {spec for spec, _name in client.sets()}
        missing = [s for s in member.oai.sets if s not in offered]
        if missing:
            shown = sorted(offered)[:30] + (["…"] if len(offered) > 30 else [])
            raise EndpointMismatch(
                f"{member.oai.base_url} has no set {', '.join(repr(s) for s in missing)} named "
                f"in the alliance file; its sets: {', '.join(shown) or 'none'}"
            )
    return identity


def _list_state(db, run_id: int, member, identity: Identity, resume, last) -> ListState:
    if resume is not None:
        from_date = resume.from_date
    else:
        from_date = to_granularity(last.response_date, identity.granularity) if last else None
        # The server's time before the first ListRecords: the next run's ``from``, even when
        # this one finds nothing (noRecordsMatch has no page to take a responseDate from).
        update_run(db, run_id, from_date=from_date, response_date=identity.response_date or None)
    state = ListState(
        run_id,
        member.code,
        member.oai.record_format,
        member.oai.metadata_prefix,
        from_date,
        identity.granularity,
        holdings=holdings_config(member),
    )
    if resume is not None:
        state.cursor, state.last_datestamp = resume.cursor, resume.last_datestamp
        state.response_date = resume.response_date
    else:
        state.response_date = identity.response_date or None
    return state


def _remaining_sets(member, resume) -> tuple[list[str | None], str | None]:
    """Return the sets still to harvest and the token to start the first one from."""
    sets: list[str | None] = list(member.oai.sets) or [None]
    if resume is None or resume.pages == 0:
        return sets, None
    position = sets.index(resume.set_spec) if resume.set_spec in sets else 0
    token = resume.resumption_token
    if token is None:  # that set's list was complete: go on with the next one
        return sets[position + 1 :], None
    return sets[position:], token


def to_granularity(stamp: str, granularity: str) -> str:
    """Return a datestamp or responseDate at the server's granularity, in UTC."""
    stamp = stamp.strip()
    if granularity == DAY:
        return stamp[:10]
    if len(stamp) == 10:
        return f"{stamp}T00:00:00Z"
    try:
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ListState:
    """Where one run stands, as the loop moves through its sets and pages."""

    run_id: int
    member_code: str
    record_format: str
    prefix: str
    from_date: str | None
    granularity: str
    cursor: int = 0
    last_datestamp: str | None = None
    response_date: str | None = None  # None until the run's first page
    totals: PageCounts = field(default_factory=PageCounts)
    holdings: tuple | None = None  # compiled holdings fields (None: the parser's defaults)
    restarts: int = 0
    saved_retries: int = 0  # retries committed with pages by this process


def harvest_sets(
    db: Database,
    client: OAIClient,
    state: ListState,
    sets: list[str | None],
    token: str | None,
    progress: Progress | None,
) -> None:
    """Harvest each set in turn (``None`` = the whole repository), the first from ``token``."""
    for set_spec in sets:
        _harvest_list(db, client, state, set_spec, token, progress)
        token = None


def _harvest_list(
    db: Database,
    client: OAIClient,
    state: ListState,
    set_spec: str | None,
    token: str | None,
    progress: Progress | None,
) -> None:
    """Harvest one list, restarting from the newest committed datestamp on badResumptionToken."""
    from_date = state.from_date
    if token == "":  # the token was too long to keep: start the list again where we were
        token, from_date = None, _restart_from(state)
    while True:
        params = {"metadataPrefix": state.prefix}
        if set_spec:
            params["set"] = set_spec
        if from_date:
            params["from"] = from_date
        pages = client.list_pages("ListRecords", token=token, deferred=True, **params)
        offload = Offload(state, lambda page: _page_records(state, page), client.complete)
        try:
            with Behind() as store:
                routed = prefetch(_local_payloads(offload.route(pages)))
                for page, records in offload.ordered(routed):
                    store.submit(_store_page, db, state, set_spec, page, records, progress)
            return
        except BadResumptionToken as exc:
            state.restarts += 1
            if state.restarts > MAX_RESTARTS:
                raise HarvestError(f"{exc}; gave up after {MAX_RESTARTS} restarts") from exc
            token, from_date = None, _restart_from(state)
            log.warning(
                "%s: %s; restarting the list from %s",
                state.member_code,
                exc,
                from_date or "the beginning",
            )


def _page_records(state: ListState, page: Page) -> tuple[list[StoredRecord], list[str]]:
    return to_records(
        page.items, state.record_format, state.prefix, state.member_code, state.holdings
    )


def _local_payloads(routed: Iterator[tuple[Page, object]]):
    """Attach payloads to the pages normalised in this process (run in the fetching thread)."""
    for page, worker in routed:
        if worker is None:  # not sent to a worker process
            _attach_payloads(page)
        yield page, worker


def _restart_from(state: ListState) -> str | None:
    if state.last_datestamp:
        return to_granularity(state.last_datestamp, state.granularity)
    return state.from_date


def _store_page(
    db: Database,
    state: ListState,
    set_spec: str | None,
    page: Page,
    parsed: tuple[list[StoredRecord], list[str]],
    progress: Progress | None,
) -> None:
    """Commit a page's records with the run's checkpoint (in the storing thread, in order)."""
    records, errors = parsed
    newest = max((r.datestamp for r in records), default=None)
    if newest and (state.last_datestamp is None or newest > state.last_datestamp):
        state.last_datestamp = newest
    state.cursor += page.item_count
    token = page.next_token
    checkpoint = Checkpoint(
        resumption_token=token if token is None or len(token) <= MAX_TOKEN else "",
        cursor=state.cursor,
        last_datestamp=state.last_datestamp,
        set_spec=set_spec,
        response_date=page.response_date if state.response_date is None else None,
        illegal_chars=page.illegal_chars,
        retries=page.retries,
        errors=errors,
    )
    counts = save_page(db, state.run_id, state.member_code, records, checkpoint)
    state.totals.add(counts)
    state.saved_retries += page.retries
    if state.response_date is None:
        state.response_date = page.response_date
    if page.illegal_chars:
        log.info(
            "%s: removed %d characters illegal in XML from a page",
            state.member_code,
            page.illegal_chars,
        )
    if progress is not None:
        expected = page.token.complete_list_size if page.token is not None else None
        progress(state.member_code, state.cursor, expected)


def holdings_config(member) -> tuple | None:
    """Compile the member's holdings fields from the alliance file (None: the parser's defaults)."""
    if not member.oai.holdings:
        return None
    return compile_holdings_config([dataclasses.asdict(h) for h in member.oai.holdings])


def to_records(
    items: list[Item], record_format: str, prefix: str, member_code: str, holdings=None
) -> tuple[list[StoredRecord], list[str]]:
    """Parse a page's items into records to store; return them and what had to be skipped."""
    records, skipped = [], 0
    for item in items:
        header = item.header
        if not header.identifier or len(header.identifier) > MAX_IDENTIFIER:
            skipped += 1
            continue
        records.append(to_record(item, record_format, prefix, member_code, holdings))
    errors = [f"{skipped} record(s) without a usable identifier skipped"] if skipped else []
    return records, errors


def to_record(
    item: Item, record_format: str, prefix: str, member_code: str, holdings=None
) -> StoredRecord:
    """Parse one item: a tombstone, a rejected record with its reason, or an active record."""
    header = item.header
    if header.deleted:
        return StoredRecord(header.identifier, header.datestamp, "deleted", prefix)
    element = item.metadata
    if element is None:
        return StoredRecord(
            header.identifier,
            header.datestamp,
            "rejected",
            prefix,
            reject_reason="the record carries no metadata",
        )
    raw = item.raw if item.raw is not None else stored_payload(element, item.source)
    return parsed_record(
        header.identifier,
        header.datestamp,
        prefix,
        raw,
        element,
        record_format,
        member_code,
        holdings,
    )


def stored_payload(element: etree._Element, source: bytes | None = None) -> bytes:
    """Compress one metadata element for the record store (its bytes from the page, if cut)."""
    if source is None:
        source = etree.tostring(element, encoding="utf-8", with_tail=False)
    return compress(source)


def with_payloads(pages: Iterator[Page]) -> Iterator[Page]:
    """Attach each record's stored payload as pages arrive.

    Run inside the prefetch thread: lxml serialisation and zlib release the GIL, so this work
    overlaps the metadata parsing of the previous page.
    """
    for page in pages:
        _attach_payloads(page)
        yield page


def _attach_payloads(page: Page) -> None:
    for item in page.items:
        if item.metadata is not None:
            item.raw = stored_payload(item.metadata, item.source)


def parsed_record(
    identifier: str,
    datestamp: str,
    prefix: str,
    raw: bytes,
    element,
    record_format: str,
    member_code: str,
    holdings=None,
) -> StoredRecord:
    """Run the metadata parser on one element and say what to store."""
    try:
        bib = parse_metadata(
            record_format, element, member=member_code, keep_raw=False, holdings_config=holdings
        )
    except RecordRejected as exc:
        return StoredRecord(identifier, datestamp, "rejected", prefix, raw, None, exc.reason)
    status = "deleted" if bib.deleted else "active"  # MARC leader/05 'd': gone from search
    return StoredRecord(identifier, datestamp, status, prefix, raw, bib_to_json(bib))
