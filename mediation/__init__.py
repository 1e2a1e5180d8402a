"""The web shell: app, settings, CLI, web helpers, presenters, routes, notice delivery, the
partner API's surface. No domain rule lives here; the domains are in `cases`."""
