"""Check an OAI-PMH request's arguments against the verb's rules before anything is looked up."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Per verb: (required, optional, exclusive). The exclusive argument must stand alone.
VERB_ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str], str | None]] = {
    "Identify": (frozenset(), frozenset(), None),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"}), None),
    "ListSets": (frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set"}),
        "resumptionToken",
    ),
}

# Patterns from OAI-PMH.xsd, so that whatever we echo in <request> is schema-valid.
_PREFIX_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+\Z")
_SET_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*\Z")
# An identifier is an xs:anyURI: no whitespace or control characters, well-formed %-escapes,
# at most one fragment mark, no IP-literal brackets (libxml2 rejects the last three).
_BAD_IDENTIFIER_RE = re.compile(r"[\s\x00-\x1f\x7f\[\]]|%(?![0-9A-Fa-f]{2})|#.*#")
_MAX_VALUE_LENGTH = 1024
_MAX_SHOWN = 60


class OAIError(Exception):
    """An OAI-PMH error condition: ``code`` is one of the protocol's error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OAIRequest:
    """A request whose verb and arguments passed the protocol's syntax rules."""

    verb: str
    arguments: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """Return the argument ``name`` or None."""
        return self.arguments.get(name)


def shown(value: str) -> str:
    """Return ``value`` shortened and stripped of characters XML cannot carry, for messages."""
    cleaned = "".join(ch if _is_xml_char(ch) else "\ufffd" for ch in value[:_MAX_SHOWN])
    return cleaned + ("..." if len(value) > _MAX_SHOWN else "")


def _is_xml_char(ch: str) -> bool:
    code = ord(ch)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _values(params: Mapping[str, Iterable[str] | str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    # A werkzeug MultiDict's items() shows only the first value; lists() shows repeats too.
    pairs = params.lists() if hasattr(params, "lists") else params.items()
    for key, value in pairs:
        given = [value] if isinstance(value, str) else list(value)
        if given:  # a name with no value at all is as good as absent
            out[key] = given
    return out


def _verb(values: dict[str, list[str]]) -> str:
    verbs = values.pop("verb", [])
    if not verbs:
        raise OAIError("badVerb", "The verb argument is missing.")
    if len(verbs) > 1:
        raise OAIError("badVerb", "The verb argument is repeated.")
    if verbs[0] not in VERB_ARGUMENTS:
        raise OAIError("badVerb", f"'{shown(verbs[0])}' is not an OAI-PMH verb.")
    return verbs[0]


def _check_names(verb: str, values: dict[str, list[str]]) -> None:
    required, optional, exclusive = VERB_ARGUMENTS[verb]
    allowed = required | optional | ({exclusive} if exclusive else set())
    for name, given in values.items():
        if name not in allowed:
            raise OAIError("badArgument", f"{verb} does not take the argument '{shown(name)}'.")
        if len(given) > 1:
            raise OAIError("badArgument", f"The argument '{name}' is repeated.")
    if exclusive and exclusive in values:
        if len(values) > 1:
            raise OAIError("badArgument", f"{exclusive} is an exclusive argument: send it alone.")
        return
    missing = sorted(required - values.keys())
    if missing:
        raise OAIError("badArgument", f"{verb} needs the argument(s): {', '.join(missing)}.")


def _check_syntax(name: str, value: str) -> None:
    if name == "resumptionToken":
        return  # a bad token is badResumptionToken, judged by the token decoder
    if not value:
        raise OAIError("badArgument", f"The argument '{name}' is empty.")
    if len(value) > _MAX_VALUE_LENGTH or not all(_is_xml_char(ch) for ch in value):
        raise OAIError("badArgument", f"The value of '{name}' has an illegal syntax.")
    if name == "metadataPrefix" and not _PREFIX_RE.match(value):
        raise OAIError("badArgument", f"'{shown(value)}' is not a legal metadataPrefix.")
    if name == "set" and not _SET_RE.match(value):
        raise OAIError("badArgument", f"'{shown(value)}' is not a legal setSpec.")
    if name == "identifier" and _BAD_IDENTIFIER_RE.search(value):
        raise OAIError("badArgument", f"'{shown(value)}' is not a legal identifier (a URI).")


def parse_request(params: Mapping[str, Iterable[str] | str]) -> OAIRequest:
    """Return the checked request; raise OAIError (badVerb or badArgument) when it breaks a rule."""
    values = _values(params)
    verb = _verb(values)
    _check_names(verb, values)
    for name, given in values.items():
        _check_syntax(name, given[0])
    return OAIRequest(verb, {name: given[0] for name, given in values.items()})


def clean_text(value: str) -> str:
    """Return ``value`` with characters XML cannot carry replaced by U+FFFD."""
    return (
        value
        if is_xml_text(value)
        else "".join(ch if _is_xml_char(ch) else "\ufffd" for ch in value)
    )


def is_xml_text(value: str) -> bool:
    """Return whether ``value`` can be written into an XML document as is."""
    return all(_is_xml_char(ch) for ch in value)
