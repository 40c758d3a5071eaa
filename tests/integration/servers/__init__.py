"""OAI-PMH servers for the harvest integration tests, all on loopback over real HTTP.

- ``fault.FaultServer``: our provider over generated MARC 21 records, with scripted faults
  (HTTP 503/429 with Retry-After, delays past the timeout, dropped connections, truncated XML,
  illegal characters, refused, expired and repeated resumption tokens, OAI errors with 422).
- ``replay.ReplayServer``: recorded responses of real repositories (tests/data/oai/).
- ``thirdparty.ThirdPartyServer``: pyoai's server (PyPI ``oaipmh`` 4.0.0) over real records.
- ``harness``: build a member pointing at a server, harvest it, read back the record store.

Each server is a WSGI app; start it with ``server.start(EndpointServer())``. Each keeps a
``log`` of the requests it received.
"""
