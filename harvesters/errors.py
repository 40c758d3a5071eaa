"""The HarvestError family: every way a harvest can fail, as one plain-words line.

Callers catch ``HarvestError``; the cause (a requests or lxml exception) stays on
``__cause__`` for the log. Messages name the endpoint and say what to do where we know.
"""

from __future__ import annotations


class HarvestError(Exception):
    """A harvest could not go on; ``str()`` is one line a systems librarian can act on."""

    def __init__(self, message: str) -> None:
        message = " ".join(message.split())  # one line: it is logged and stored on the run
        super().__init__(message)
        self.message = message


class NetworkError(HarvestError):
    """No usable HTTP answer after every retry: timeouts, refused connections, 429 or 5xx."""


class HTTPStatusError(HarvestError):
    """The server answered with an HTTP error status and a body that is not an OAI-PMH error."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class MalformedResponse(HarvestError):
    """The answer is not well-formed XML, or not an OAI-PMH 2.0 document, even after retries."""

    def __init__(self, message: str, retriable: bool = True) -> None:
        super().__init__(message)
        self.retriable = retriable  # False for an HTML page or another XML document

    def __reduce__(self):  # sent back by the worker process: keep ``retriable``
        return type(self), (self.message, self.retriable)


class OAIError(HarvestError):
    """The server answered with an OAI-PMH <error> (whatever the HTTP status it came with)."""

    def __init__(self, code: str, text: str, base_url: str, verb: str | None = None) -> None:
        asked = f" to {verb}" if verb else ""
        detail = f": {text}" if text else ""
        super().__init__(f"{base_url} answered{asked} with the OAI-PMH error {code}{detail}")
        self.code = code
        self.text = text


class BadResumptionToken(OAIError):
    """The server no longer accepts the resumption token (expired or unknown)."""


class NoRecordsMatch(OAIError):
    """The request matched no records; the harvest layer reads this as an empty list."""


class RepeatedTokenError(HarvestError):
    """The server sent the same resumption token twice in a row: following it would loop."""


class HarvestLocked(HarvestError):
    """Another harvest of the same member is running (in this or another process)."""


class UnknownMember(HarvestError):
    """The member is not in the database (the alliance file was not imported): nothing ran."""


class EndpointMismatch(HarvestError):
    """The endpoint does not offer what the alliance file asks: a metadata format or a set."""


def oai_error(code: str, text: str, base_url: str, verb: str | None = None) -> OAIError:
    """Return the OAIError subclass matching an OAI-PMH error code."""
    kind = {"badResumptionToken": BadResumptionToken, "noRecordsMatch": NoRecordsMatch}.get(
        code, OAIError
    )
    return kind(code, text, base_url, verb)
