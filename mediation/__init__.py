"""The application shell and the mediation side: app, settings, accounts, organisations."""
