"""The BibRecord type and RecordRejected."""

from __future__ import annotations

import dataclasses

import pytest

from harvesters.bibrecord import BibRecord, Name, RecordRejected


def test_rejection_reason_is_one_line():
    rejected = RecordRejected("unreadable directory:\nentry 'x'\r\n")
    assert rejected.reason == "unreadable directory: entry 'x'"
    assert str(rejected) == rejected.reason
    assert rejected.position is None


def test_deleted_and_first_author():
    record = BibRecord(source_format="marc21", record_status="d")
    assert record.deleted and record.first_author is None
    record.names.append(Name("Austen, Jane", "aut"))
    assert record.first_author.kind == "personal"


def test_records_do_not_share_lists_and_take_no_stray_attributes():
    one, two = BibRecord(source_format="unimarc"), BibRecord(source_format="unimarc")
    one.isbns.append("9787503717444")
    assert two.isbns == []
    with pytest.raises(AttributeError):
        one.isbn = "x"  # slots: a typo is an error, not a silent new attribute
    assert "raw" in {f.name for f in dataclasses.fields(BibRecord)}
