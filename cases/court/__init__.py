"""The platform's side of the court handoff: the package from the database, the privilege
filter, the pre-check, queueing filings and applying callbacks (the wire is `courtwire`)."""
