"""The demo alliance's catalogue corpus: real seed records extended by a seeded generator."""

from federation.demo.corpus import (
    Corpus,
    DemoRecord,
    GroundTruth,
    MemberProfile,
    build_corpus,
    corpus_summary,
)

__all__ = [
    "Corpus",
    "DemoRecord",
    "GroundTruth",
    "MemberProfile",
    "build_corpus",
    "corpus_summary",
]
