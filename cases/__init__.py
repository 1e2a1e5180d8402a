"""The case record and its life: intake, parties, evidence, status, deadlines, court handoff."""
