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


def _parallel(path) -> TantivyBackend:
    """A backend whose every rebuild runs in two worker processes (big rebuilds do)."""
    return TantivyBackend(path, rebuild_workers=2, parallel_rebuild_min=0)


def _ids(backend, text: str) -> set[str]:
    return {hit.cluster_id for hit in backend.search(SearchQuery(text=text, page_size=100)).hits}


def test_a_rebuild_over_worker_processes_keeps_the_last_of_a_repeated_id(tmp_path):
    docs = [{"cluster_id": f"c{n}", "title": f"River atlas volume {n}"} for n in range(60)]
    docs.append({"cluster_id": "c7", "title": "Mountain atlas"})  # replaces c7
    backend = _parallel(tmp_path)
    try:
        assert backend.rebuild(docs) == 61
        assert backend.count() == 60
        assert backend.get("c7")["title"] == "Mountain atlas"
        assert _ids(backend, "river") == {f"c{n}" for n in range(60)} - {"c7"}
        # The joined index takes updates like any other; nothing of the parts is left over.
        backend.index_documents([{"cluster_id": "c8", "title": "Mountain guide"}])
        backend.delete_documents(["c9"])
        backend.commit()
        assert _ids(backend, "mountain") == {"c7", "c8"}
        assert backend.count() == 59
        generation = next((tmp_path / "indexes").iterdir())
        assert not list(generation.glob("part-*"))
    finally:
        backend.close()
    reopened = TantivyBackend(tmp_path)  # another process opening the published generation
    try:
        assert reopened.count() == 59
        assert _ids(reopened, "atlas") == {f"c{n}" for n in range(60)} - {"c8", "c9"}
    finally:
        reopened.close()


def test_a_document_a_worker_cannot_index_fails_the_rebuild_and_keeps_the_index(tmp_path):
    backend = _parallel(tmp_path)
    try:
        backend.rebuild([{"cluster_id": "c1", "title": "River atlas"}])
        bad = [{"cluster_id": f"c{n}", "title": "Sea atlas"} for n in range(2, 50)]
        bad.append({"cluster_id": "c50", "title": "Sea atlas", "year": "not a year"})
        with pytest.raises(SearchBackendError, match="indexing worker .* failed: ValueError"):
            backend.rebuild(bad)
        assert _ids(backend, "atlas") == {"c1"}  # the published index is untouched
        assert backend.rebuild(bad[:-1]) == 48  # and the next rebuild is not refused
        assert backend.count() == 48
    finally:
        backend.close()


def test_closing_after_the_index_folder_is_gone_is_quiet(tmp_path):
    """At exit (atexit) the instance folder may already be gone: close() must not raise."""
    backend = TantivyBackend(tmp_path / "index")
    backend.index_documents([{"cluster_id": "c1", "title": "x"}])  # a writer is open
    # moved away in one step (removing it file by file races the writer's own threads)
    (tmp_path / "index").rename(tmp_path / "gone")
    backend.close()
