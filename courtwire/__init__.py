"""The wire between the platform and the court desk, used by both sides: the court package,
signing, the ECF messages, delivery and the outbox relay, case numbers and evidence links.

It imports neither side: nothing from `mediation`, `courtdesk` or the case domains, only the
pure shared vocabularies (`cases.categories`, `cases.clock`, `cases.pause`). Contract:
docs/court-wire.md.
"""
