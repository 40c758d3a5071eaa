"""Generated MARC 21 records for the fault-injection server: plain, predictable, bilingual."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from web.oai.repository import MemoryRecord, MetadataFormat

MARC_NS = "http://www.loc.gov/MARC21/slim"
MARC21 = MetadataFormat(
    "marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC_NS
)
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
IDENTIFIER_PREFIX = "oai:fault.example.org:"

_SUBJECTS = ("Harvesting", "Interlibrary loan", "Union catalogues", "Metadata", "Libraries")
_SUBJECTS_ZH = ("图书馆联盟", "联合目录", "馆际互借", "元数据", "数字图书馆")


def identifier(number: int) -> str:
    """Return the OAI identifier of generated record ``number``."""
    return f"{IDENTIFIER_PREFIX}{number:05d}"


def title(number: int) -> str:
    """Return the title of generated record ``number`` (every other one in Chinese)."""
    if number % 2:
        return f"联合目录测试记录第{number}号 {_SUBJECTS_ZH[number % len(_SUBJECTS_ZH)]}"
    return f"Fault injection test record {number} on {_SUBJECTS[number % len(_SUBJECTS)]}"


def marcxml(number: int, record_title: str | None = None) -> bytes:
    """Return one MARCXML record (default namespace, no declaration), as the provider embeds it."""
    year = 1990 + number % 35
    fields = [
        "<leader>00000nam a2200000 a 4500</leader>",
        f'<controlfield tag="001">ft{number:05d}</controlfield>',
        f'<controlfield tag="008">240101s{year}    ch            000 0 chi d</controlfield>',
        _datafield("100", "1 ", [("a", f"Tester, Number {number}")]),
        _datafield("245", "10", [("a", record_title or title(number))]),
        _datafield("260", "  ", [("a", "Yantai"), ("b", "Alliance Test Press"), ("c", str(year))]),
        _datafield("300", "  ", [("a", f"{100 + number % 400} p.")]),
        _datafield("650", " 0", [("a", _SUBJECTS[number % len(_SUBJECTS)])]),
    ]
    return f'<record xmlns="{MARC_NS}">{"".join(fields)}</record>'.encode()


def _datafield(tag: str, indicators: str, subfields: list[tuple[str, str]]) -> str:
    inner = "".join(f'<subfield code="{c}">{escape(v)}</subfield>' for c, v in subfields)
    return (
        f'<datafield tag="{tag}" ind1="{indicators[0]}" ind2="{indicators[1]}">{inner}</datafield>'
    )


def make_records(count: int = 240, deleted_every: int = 9) -> list[MemoryRecord]:
    """Return ``count`` records a minute apart from 2024; every ``deleted_every``-th is deleted."""
    records = []
    for number in range(count):
        deleted = deleted_every > 0 and number % deleted_every == deleted_every - 1
        records.append(
            MemoryRecord(
                identifier(number),
                EPOCH + timedelta(minutes=number),
                {} if deleted else {"marc21": marcxml(number)},
                deleted=deleted,
            )
        )
    return records
