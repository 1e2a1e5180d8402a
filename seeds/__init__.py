"""Demo and reference data, loaded idempotently through the same actions users trigger."""
