"""Deduplication: records of one manifestation across members become one cluster.

- ``cluster.deduplicate`` / ``cluster.cluster_records``: the pure, in-memory core.
- ``services``: the record-store side (incremental re-clustering, staff merges and splits,
  ``explain_cluster`` for the record page, index documents of clusters).
- ``normalise``, ``keys``, ``evidence``: how records are compared; ``documents``: ClusterDoc.
- ``quality`` and ``labelled``: pairwise precision and recall on labelled sets.
"""
