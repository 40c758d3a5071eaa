"""Holdings configuration: which field and subfields say where a member's copies are."""

from __future__ import annotations

import pytest

from harvesters.bibrecord import Holding
from harvesters.parsers import HoldingsSpec, compile_holdings_config, parse_metadata

from .conftest import marc_records


def test_configuration_errors_say_what_to_fix():
    with pytest.raises(ValueError, match="unknown holdings setting 'shelf'"):
        compile_holdings_config({"tag": "852", "shelf": "c"})
    with pytest.raises(ValueError, match="three-character 'tag'"):
        compile_holdings_config({"location": "b"})
    with pytest.raises(ValueError, match="must be a string of subfield codes"):
        compile_holdings_config({"tag": "852", "location": 3})
    with pytest.raises(ValueError, match="non-empty list"):
        compile_holdings_config([])


def test_first_configured_tag_present_wins(cnmarc_records):
    specs = compile_holdings_config(
        [{"tag": "950", "location": "a"}, {"tag": "906", "library": "a", "call_number": "de",
                                            "per_item": True}]
    )  # fmt: skip
    assert specs[1] == HoldingsSpec("906", library="a", call_number="de", per_item=True)
    record = parse_metadata("cnmarc", cnmarc_records[0], holdings_config=specs, member="BNU")
    # no 950; three 906 item fields $a211260 $dF124 $e26 are one location with three copies
    assert record.holdings == [Holding("BNU", "211260", None, "F124 26", None, 3)]


def test_record_without_holdings_field_has_none():
    element = marc_records("marc21/rero-ils/documents_small.xml")[0]
    assert parse_metadata("marc21", element).holdings == []
