"""OAI-PMH 2.0 data provider: a framework-free engine exposed as a WSGI app.

Used by the demo alliance (each member library's endpoint) and, later, by the platform's union
catalogue. ``web.oai.server.EndpointServer`` runs providers on loopback ports.
"""

from web.oai.provider import (
    MemoryRecord,
    MemoryRepository,
    MetadataFormat,
    OAIProvider,
    Record,
    Repository,
    SetSpec,
)

__all__ = [
    "MemoryRecord",
    "MemoryRepository",
    "MetadataFormat",
    "OAIProvider",
    "Record",
    "Repository",
    "SetSpec",
]
