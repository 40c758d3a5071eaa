"""The tantivy backend's own behaviour beyond the shared contract."""

from __future__ import annotations

import pytest
import tantivy

from search.backends.tantivy import TantivyBackend
from search.interfaces import SearchBackendError
from search.query import SearchQuery


def test_an_index_of_an_older_layout_asks_for_a_rebuild(tmp_path):
    # An index generation written with another schema (as an older release wrote it).
    folder = tmp_path / "indexes" / "old"
    folder.mkdir(parents=True)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("cluster_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("doc", stored=True)
    tantivy.Index(builder.build(), path=str(folder))
    (tmp_path / "CURRENT").write_text("old\n", encoding="utf-8")
    backend = TantivyBackend(tmp_path)
    try:
        with pytest.raises(SearchBackendError, match="run `federation index rebuild`"):
            backend.search(SearchQuery(text="history"))
        # The rebuild the message asks for makes the index searchable again.
        backend.rebuild([{"cluster_id": "c1", "title": "A History of China"}])
        assert [hit.cluster_id for hit in backend.search(SearchQuery(text="history")).hits] == [
            "c1"
        ]
    finally:
        backend.close()
