"""ISO 2709 (binary MARC) records: split a stream, read the directory, decode the text.

The reader is our own rather than pymarc's MARCReader so that a broken record costs only
itself: records are found by their terminator when the length in the leader lies, a bad
directory gives a one-line reason, and the stream goes on. pymarc's MARC-8 tables decode MARC-8.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator

from harvesters.bibrecord import RecordRejected
from harvesters.parsers import charsets
from harvesters.parsers.marcdata import MarcData
from harvesters.parsers.text import strip_illegal_xml_chars

RECORD_END, FIELD_END, SUBFIELD = 0x1D, 0x1E, 0x1F
_BETWEEN_RECORDS = b"\r\n\x00\x1a"  # newlines, NULs, DOS EOF that some exports put between records

# MARC-8 letters are ASCII with combining marks before them: long runs of 8-bit bytes mean a
# single-byte code page such as Windows-1251 mislabelled as MARC-8.
_NOT_MARC8 = re.compile(rb"[\xc0-\xff]{3}")

Decoder = Callable[[bytes], str]


def check_encoding(encoding: str | None) -> None:
    """Raise ValueError unless encoding is None or a codec Python knows."""
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"unknown ISO 2709 encoding {encoding!r}") from None


def split_records(data: bytes) -> Iterator[tuple[bytes, str | None]]:
    """Yield (record bytes, warning or None) for each record in an ISO 2709 stream."""
    pos, size = 0, len(data)
    while pos < size:
        while pos < size and data[pos] in _BETWEEN_RECORDS:
            pos += 1
        if pos >= size:
            return
        head = data[pos : pos + 5]
        declared = int(head) if head.isdigit() else 0
        if declared >= 24 and pos + declared <= size and data[pos + declared - 1] == RECORD_END:
            yield data[pos : pos + declared], None
            pos += declared
            continue
        end = data.find(b"\x1d", pos)
        if end == -1:
            chunk, pos = data[pos:], size
            yield chunk, "no record terminator at the end of the data"
            continue
        chunk, pos = data[pos : end + 1], end + 1
        shown = head.decode("ascii", "replace")
        yield chunk, f"record length in leader ({shown}) is not its real length ({len(chunk)})"


def read_iso2709(
    chunk: bytes, wanted: frozenset[str], flavour: str, encoding: str | None = None
) -> MarcData:
    """Read one ISO 2709 record into MarcData; raise RecordRejected when it is unreadable."""
    size = len(chunk) - 1 if chunk.endswith(b"\x1d") else len(chunk)
    if size < 24:
        raise RecordRejected(f"leader is {size} characters, expected 24")
    leader = chunk[:24].decode("ascii", "replace")
    data = MarcData()
    data.leader = leader
    entries, base = _directory(chunk, leader, data)
    data.tags = tuple(tag for tag, _, _ in entries)
    field_bytes = _locate_fields(chunk, entries, base, data)
    if encoding:  # the member's configuration overrides what the record declares

        def decode(raw: bytes) -> str:
            return raw.decode(encoding, "replace")
    else:
        decode = _choose_decoder(chunk[base:], leader, field_bytes, flavour, data)
    stats = [0, 0]  # values repaired from double-encoded UTF-8, characters illegal in XML
    for tag, raw in field_bytes:
        if tag.startswith("00"):
            if tag not in data.control:
                data.control[tag] = _text(raw, decode, stats)
        elif tag in wanted:
            data.fields.setdefault(tag, []).append(_data_field(raw, decode, stats))
    if stats[0]:
        data.warnings.append(f"repaired {stats[0]} double-encoded UTF-8 values")
    if stats[1]:
        data.warnings.append(f"removed {stats[1]} characters illegal in XML")
    return data


def _directory(chunk: bytes, leader: str, data: MarcData) -> tuple[list, int]:
    if not leader[12:17].isdigit():
        if not leader[:5].isdigit():
            raise RecordRejected(f"not a MARC record: leader is {leader!r}")
        raise RecordRejected(f"base address of data {leader[12:17]!r} is not a number")
    len_len = int(leader[20]) if leader[20] in "123456789" else 4
    start_len = int(leader[21]) if leader[21] in "123456789" else 5
    entry_size = 3 + len_len + start_len + (int(leader[22]) if leader[22].isdigit() else 0)
    dir_end = chunk.find(FIELD_END, 24)
    if dir_end == -1:
        raise RecordRejected("unreadable directory: no field terminator after it")
    base = int(leader[12:17])
    if base != dir_end + 1:
        data.warnings.append(f"base address {base} is wrong; data starts at {dir_end + 1}")
        base = dir_end + 1
    directory = chunk[24:dir_end]
    if len(directory) % entry_size:
        raise RecordRejected(
            f"unreadable directory: {len(directory)} bytes is not a whole number of "
            f"{entry_size}-byte entries"
        )
    entries = []
    for pos in range(0, len(directory), entry_size):
        entry = directory[pos : pos + entry_size]
        length, start = entry[3 : 3 + len_len], entry[3 + len_len : 3 + len_len + start_len]
        if not (length.isdigit() and start.isdigit()):
            shown = entry.decode("ascii", "replace")
            raise RecordRejected(f"unreadable directory: entry {shown!r} is not tag+length+start")
        entries.append((entry[:3].decode("ascii", "replace"), int(length), int(start)))
    return entries, base


def _locate_fields(chunk: bytes, entries: list, base: int, data: MarcData) -> list:
    located = []
    for tag, length, start in entries:
        begin = base + start
        raw = chunk[begin : begin + length]
        if length < 1 or begin + length > len(chunk) or raw[-1] != FIELD_END:
            return _split_data_area(chunk, entries, base, data, tag)
        located.append((tag, raw[:-1]))
    return located


def _split_data_area(chunk: bytes, entries: list, base: int, data: MarcData, bad_tag: str):
    # Lengths or offsets in the directory are wrong; the field terminators may still be right.
    area = chunk[base:]
    if area.endswith(b"\x1d"):
        area = area[:-1]
    parts = area.split(b"\x1e")
    if parts and not parts[-1]:
        parts.pop()
    if len(parts) != len(entries):
        raise RecordRejected(
            f"unreadable directory: field {bad_tag} lies outside the record and the "
            f"{len(entries)} entries do not match its {len(parts)} fields"
        )
    data.warnings.append("directory lengths or offsets are wrong; fields read by terminator")
    return [(tag, part) for (tag, _, _), part in zip(entries, parts, strict=True)]


def _choose_decoder(area: bytes, leader: str, fields: list, flavour: str, data: MarcData):
    if area.isascii():  # any decoder will do
        return _ascii
    if flavour == "marc21":
        if leader[9] == "a":
            return _utf8
        if b"\x1b" not in area and charsets.is_utf8(area):
            data.warnings.append("leader/09 says MARC-8 but the data is UTF-8; read as UTF-8")
            return _utf8
        if _NOT_MARC8.search(area):
            data.warnings.append(
                "the data does not look like MARC-8 (runs of 8-bit letters); configure the "
                "member's ISO 2709 encoding (e.g. cp1251)"
            )
        return charsets.decode_marc8
    if charsets.is_utf8(area):  # UNIMARC feeds often declare ISO 5426 but send UTF-8
        return _utf8
    declared = _unimarc_charset(fields)
    if declared == "50":
        return _utf8
    if declared == "03":
        return _iso5426
    if flavour == "cnmarc":
        return _gb18030
    data.warnings.append(f"character set {declared or 'not declared'} in 100$a; read as Latin-1")
    return _latin1


def _unimarc_charset(fields: list) -> str | None:
    for tag, raw in fields:
        if tag == "100":
            value = raw.split(b"\x1f")[1][1:] if b"\x1f" in raw else b""
            return value[26:28].decode("ascii", "replace") if len(value) >= 28 else None
    return None


def _ascii(raw: bytes) -> str:
    return raw.decode("ascii", "replace")


def _utf8(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _latin1(raw: bytes) -> str:
    return raw.decode("latin-1")


def _gb18030(raw: bytes) -> str:
    return raw.decode("gb18030", "replace")


def _iso5426(raw: bytes) -> str:
    return charsets.decode_iso5426(raw)[0]


def _text(raw: bytes, decode: Decoder, stats: list[int]) -> str:
    text = decode(raw)
    if not text.isascii():
        repaired = charsets.repair_double_utf8(text)
        if repaired is not None:
            text = repaired
            stats[0] += 1
    text, removed = strip_illegal_xml_chars(text)
    stats[1] += removed
    return text


def _data_field(raw: bytes, decode: Decoder, stats: list[int]):
    parts = raw.split(b"\x1f")
    indicators = parts[0].decode("ascii", "replace")
    ind1 = indicators[0] if len(indicators) > 0 else " "
    ind2 = indicators[1] if len(indicators) > 1 else " "
    subs = []
    for part in parts[1:]:
        if part:
            subs.append((chr(part[0]), _text(part[1:], decode, stats)))
    return ind1, ind2, subs
