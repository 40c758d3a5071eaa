"""ISO 18626 (interlibrary loan) messages over HTTP: XML in and out, the endpoint's logic, peers.

``to_xml``/``from_xml`` build and read messages validated against the XSD; ``receive`` answers
one incoming message; ``Iso18626Client`` sends to members that run their own system, and the
``Outbox`` tells them what the broker did.
"""

from ill.iso18626.client import Iso18626Client, Peer, PeerError
from ill.iso18626.schema import WireError
from ill.iso18626.xml import from_xml, to_xml

__all__ = ["Iso18626Client", "Peer", "PeerError", "WireError", "from_xml", "to_xml"]
