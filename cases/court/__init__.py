"""The court handoff: packages, privilege filter, signing, delivery and the court desk."""
