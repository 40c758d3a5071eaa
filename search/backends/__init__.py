"""Search backends, picked from settings: tantivy (embedded, default) or Elasticsearch."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from search.interfaces import SearchBackend


def backend_from_settings(settings: Mapping[str, Any]) -> SearchBackend:
    """Return the SearchBackend named by SEARCH_BACKEND, configured from the settings."""
    name = settings.get("SEARCH_BACKEND", "tantivy")
    if name == "tantivy":
        from search.backends.tantivy import TantivyBackend

        return TantivyBackend(
            Path(settings["INSTANCE_PATH"]) / "search" / "tantivy",
            result_cache_size=settings.get("SEARCH_RESULT_CACHE_SIZE", 0),
        )
    if name == "elasticsearch":
        from search.backends.elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(settings["ELASTICSEARCH_URL"])
    raise ValueError(f"SEARCH_BACKEND must be tantivy or elasticsearch, got {name!r}")
