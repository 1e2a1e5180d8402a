"""The web shell: app, settings, CLI, web helpers, presenters, routes, notice delivery, the
partner API; and, until they move into `cases`, sessions, agreements and performance."""
