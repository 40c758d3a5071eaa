"""The OAI-PMH client: sickle issues the requests, we own retries, parsing and errors.

``Sickle(base_url, timeout=..., max_retries=0)`` sends every request over one
``requests.Session`` (connection reuse); around it runs our retry loop: exponential back-off
with full jitter on timeouts, connection errors, 429, 5xx and malformed XML, honouring
Retry-After, every wait capped. OAI errors sent with an HTTP 4xx status (Zenodo uses 422) are
read as OAI errors. Every failure leaves as a ``HarvestError``. Sleeping and randomness are
injectable so tests never wait for real back-off.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from sickle import Sickle

from harvesters.errors import (
    HarvestError,
    HTTPStatusError,
    MalformedResponse,
    NetworkError,
    NoRecordsMatch,
    OAIError,
    RepeatedTokenError,
)
from harvesters.pages import (
    Identity,
    Page,
    parse_page,
    read_identify,
    read_metadata_formats,
    read_sets,
)
from harvesters.scan import scan_list_page

log = logging.getLogger(__name__)

USER_AGENT = "library-federation-harvester/0.1 (OAI-PMH 2.0; +https://www.openarchives.org/pmh/)"
MAX_STREAMS_PER_SERVER = 2  # politeness: never more than two list requests in flight per host


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before asking again."""

    max_retries: int = 5
    cap: float = 60.0  # longest single wait, Retry-After included
    base: float = 1.0  # first back-off ceiling; doubles with each retry

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> RetryPolicy:
        """Build the policy from HARVEST_MAX_RETRIES and HARVEST_BACKOFF_CAP."""
        return cls(settings["HARVEST_MAX_RETRIES"], settings["HARVEST_BACKOFF_CAP"])

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Return the wait before retry number ``attempt`` (0-based): full jitter, capped."""
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after))
        return rng.uniform(0.0, min(self.cap, self.base * 2**attempt))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Read a Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Retry(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A failed attempt worth repeating; ``final`` is what to raise when retries run out."""

    def __init__(self, final: HarvestError, retry_after: float | None = None) -> None:
        super().__init__(str(final))
        self.final = final
        self.retry_after = retry_after


class _SessionSickle(Sickle):
    """Sickle sending its requests over our session (sickle 0.7 calls requests.get itself)."""

    def __init__(self, endpoint: str, session: requests.Session, **kwargs: Any) -> None:
        super().__init__(endpoint, **kwargs)
        self.session = session

    def _request(self, kwargs):
        if self.http_method == "GET":
            return self.session.get(self.endpoint, params=kwargs, **self.request_args)
        return self.session.post(self.endpoint, data=kwargs, **self.request_args)


class OAIClient:
    """Ask one OAI-PMH endpoint, with retries; each answer comes back as a parsed Page."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.session = session or requests.Session()
        self.retries = 0  # retries made so far, for the run's record
        self._sickle = _SessionSickle(
            base_url,
            self.session,
            timeout=timeout,
            max_retries=0,
            headers={"User-Agent": USER_AGENT},
        )

    @classmethod
    def from_settings(cls, base_url: str, settings: dict[str, Any], **kwargs: Any) -> OAIClient:
        """Build a client with HARVEST_TIMEOUT and the retry settings."""
        return cls(
            base_url,
            timeout=settings["HARVEST_TIMEOUT"],
            retry=RetryPolicy.from_settings(settings),
            **kwargs,
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def __enter__(self) -> OAIClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def fetch(
        self, verb: str, *, deferred: bool = False, first_attempt: int = 0, **params: str
    ) -> Page:
        """Send one request (retrying what is worth retrying) and return the parsed page.

        With ``deferred`` a plain ListRecords page is only scanned for its token
        (``scan.py``); :meth:`complete` parses it later, wherever it is normalised.
        ``first_attempt`` counts attempts already made for this page (retries left shrink).
        """
        attempt = first_attempt
        while True:
            try:
                page = self._attempt(verb, params, deferred)
                page.retries = attempt
                page.request = params
                return page
            except _Retry as retry:
                if attempt >= self.retry.max_retries:
                    raise retry.final from retry.final.__cause__
                wait = self.retry.delay(attempt, self.rng, retry.retry_after)
                log.warning(
                    "%s (retry %d of %d in %.1f s)",
                    retry.final,
                    attempt + 1,
                    self.retry.max_retries,
                    wait,
                )
                self.sleep(wait)
                attempt += 1
                self.retries += 1

    def complete(self, page: Page, *, fresh: bool = False) -> Page:
        """Parse a deferred page; one that is not well-formed is asked for again (retries apply).

        ``fresh`` asks on a new connection (for a thread other than the fetching one). The page
        asked again keeps the original's token: the list went on with that one.
        """
        if not page.deferred:
            return page
        try:
            full = parse_page(page.content, self.base_url, page.verb)
        except MalformedResponse as exc:
            if not exc.retriable or page.retries >= self.retry.max_retries:
                raise
            wait = self.retry.delay(page.retries, self.rng)
            log.warning("%s (asking for that page again in %.1f s)", exc, wait)
            self.sleep(wait)
            self.retries += 1
            full = self._again(page, fresh)
            full.token = page.token  # the list already went on with the first answer's token
        else:
            if full.token != page.token:  # the scan must read what the parser reads
                raise HarvestError(
                    f"{self.base_url} sent a page whose resumption token reads differently "
                    f"when parsed ({full.next_token!r}) and scanned ({page.next_token!r})"
                )
            full.retries = page.retries
        full.request = page.request
        return full

    def _again(self, page: Page, fresh: bool) -> Page:
        """Ask for a page again, counting the attempts already made for it."""
        if not fresh:
            return self.fetch(page.verb, first_attempt=page.retries + 1, **page.request)
        other = OAIClient(self.base_url, timeout=self.timeout, retry=self.retry,
                          sleep=self.sleep, rng=self.rng)  # fmt: skip
        try:
            with other:
                return other.fetch(page.verb, first_attempt=page.retries + 1, **page.request)
        finally:
            self.retries += other.retries  # counted even when every attempt failed

    def _attempt(self, verb: str, params: dict[str, str], deferred: bool = False) -> Page:
        what = f"{verb} ({_shown(params)})" if params else verb
        try:
            response = self._sickle.harvest(verb=verb, **params).http_response
        except requests.HTTPError as exc:
            return self._http_error(exc, verb, what)
        except _TRANSIENT as exc:
            raise _Retry(_network_error(exc, self.base_url, what)) from exc
        except requests.RequestException as exc:  # invalid URL and the like: retrying won't help
            raise HarvestError(f"cannot ask {self.base_url} for {what}: {exc}") from exc
        if deferred and verb == "ListRecords":
            scanned = scan_list_page(response.content)
            if scanned is not None:
                response_date, token, count = scanned
                return Page(response_date, verb, None, token=token, size=len(response.content),
                            content=response.content, deferred=True, counted=count)  # fmt: skip
        try:
            return parse_page(response.content, self.base_url, verb)
        except MalformedResponse as exc:
            if exc.retriable:
                raise _Retry(exc) from exc
            raise

    def _http_error(self, exc: requests.HTTPError, verb: str, what: str) -> Page:
        response = exc.response
        status = response.status_code if response is not None else 0
        if status == 429 or status >= 500:
            final = NetworkError(
                f"{self.base_url} answered {what} with HTTP {status} "
                f"after {self.retry.max_retries} retries"
            )
            final.__cause__ = exc
            raise _Retry(final, retry_after_seconds(response.headers.get("Retry-After"))) from exc
        try:  # an OAI error sent with a 4xx status is still an OAI error
            return parse_page(response.content, self.base_url, verb)
        except OAIError:
            raise
        except MalformedResponse:
            raise HTTPStatusError(
                f"{self.base_url} answered {what} with HTTP {status} and no OAI-PMH answer; "
                "check the base URL",
                status,
            ) from exc

    # -- verbs -------------------------------------------------------------------------------

    def identify(self) -> Identity:
        """Ask Identify: granularity, earliest datestamp, deleted-record policy."""
        return read_identify(self.fetch("Identify"))

    def metadata_formats(self) -> list[str]:
        """Return the metadata prefixes the repository offers."""
        return read_metadata_formats(self.fetch("ListMetadataFormats"))

    def sets(self) -> list[tuple[str, str]]:
        """Return (setSpec, setName) of every set; [] when the repository has none."""
        found: list[tuple[str, str]] = []
        try:
            for page in self.list_pages("ListSets"):
                found += read_sets(page)
        except OAIError as exc:
            if exc.code != "noSetHierarchy":
                raise
        return found

    def get_record(self, identifier: str, prefix: str) -> Page:
        """Ask GetRecord for one record."""
        return self.fetch("GetRecord", identifier=identifier, metadataPrefix=prefix)

    def list_pages(
        self, verb: str, token: str | None = None, *, deferred: bool = False, **params: str
    ) -> Iterator[Page]:
        """Yield each page of a list, following resumption tokens; noRecordsMatch yields none.

        With ``token`` the list resumes there (``params`` are then not sent, as the protocol
        requires). The same token sent back twice in a row raises RepeatedTokenError. With
        ``deferred`` plain pages come only scanned (see :meth:`fetch`).
        """
        request = {"resumptionToken": token} if token else params
        while True:
            try:
                page = self.fetch(verb, deferred=deferred, **request)
            except NoRecordsMatch:
                return
            yield page
            following = page.next_token
            if following is None:
                return
            if following == request.get("resumptionToken"):
                raise RepeatedTokenError(
                    f"{self.base_url} sent the resumption token {following[:80]!r} twice in a "
                    f"row for {verb}; stopping so the harvest does not loop"
                )
            request = {"resumptionToken": following}


def _shown(params: dict[str, str]) -> str:
    return ", ".join(f"{k}={v[:60]}" for k, v in params.items())


# Worth asking again: no answer in time, no connection, or a body cut off or garbled on the way.
_TRANSIENT = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _network_error(exc: Exception, base_url: str, what: str) -> NetworkError:
    if isinstance(exc, requests.Timeout):
        error = NetworkError(f"{base_url} did not answer {what} in time")
    elif isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        error = NetworkError(f"the connection to {base_url} broke off during its answer to {what}")
    else:
        error = NetworkError(
            f"cannot connect to {base_url} for {what}: nothing answers there "
            "or the connection broke"
        )
    error.__cause__ = exc
    return error


# -- streams -----------------------------------------------------------------------------------

_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def server_key(base_url: str) -> str:
    """Return host:port of an endpoint: the unit of politeness."""
    parts = urlsplit(base_url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


@contextmanager
def server_slot(base_url: str) -> Iterator[None]:
    """Hold one of the MAX_STREAMS_PER_SERVER stream slots of this process for the server."""
    key = server_key(base_url)
    with _slots_lock:
        slot = _slots.setdefault(key, threading.BoundedSemaphore(MAX_STREAMS_PER_SERVER))
    with slot:
        yield
