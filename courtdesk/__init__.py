"""The court desk: the court clerks' own application (立案庭), separate from the platform.

It knows a case only from what crosses the wire (docs/court-wire.md): signed filings in,
signed decisions (callbacks) out through its own outbox. It has its own database, its own
clerk accounts and its own message catalog, and it runs in its own process
(`python -m courtdesk serve`). It imports only the wire (`courtwire`) and the pure shared
vocabularies (`cases.categories`, `cases.clock`, `cases.evidence_files`, `cases.pause`),
never the platform's web shell or its models (tests/test_import_directions.py).
"""
