"""Policies in other processes: ``ahabench serve`` (:mod:`.server`), the client end of a connection
(:mod:`.connection`) and the wire format both use (:mod:`.wire`). docs/serving.md describes the protocol."""
