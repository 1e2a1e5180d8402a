"""The security and access logs, kept on disk for over six months.

Two files in the log folder (the data folder's `logs/` unless MEDIATION_LOG_DIR says
otherwise), each rotated at midnight UTC and kept
`log_days` days:

- `security.log`: logger `security` and its children: sign-ins and failed sign-ins
  (`security.accounts`), administration actions (`security.admin`), refused WebSocket
  origins (`security.websocket`), court deliveries (`security.court`, by the court relay).
- `access.log`: logger `access`, one line per request (see `mediation.middleware.AccessLog`).

What is written names users by their id, addresses, route patterns and message ids: never an
ID number, a mobile number, an email, a password or anything a person wrote. Every call
site keeps to that; the test in tests/mediation/test_security_log.py reads the files back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.handlers import TimedRotatingFileHandler

from mediation.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
LOGS = {"security": "security.log", "access": "access.log"}


@contextmanager
def security_logs(settings: Settings) -> Iterator[None]:
    """Attach the rotating files for the life of the application (its lifespan), and detach
    and close them afterwards, so an application made and dropped leaves nothing open."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    attached: list[tuple[logging.Logger, TimedRotatingFileHandler]] = []
    try:
        for name, filename in LOGS.items():
            handler = TimedRotatingFileHandler(
                settings.log_dir / filename,
                when="midnight",
                utc=True,
                backupCount=settings.log_days,
                encoding="utf-8",
                delay=True,
            )
            handler.setFormatter(logging.Formatter(FORMAT))
            handler.setLevel(logging.INFO)
            logger = logging.getLogger(name)
            logger.setLevel(logging.INFO)
            logger.addHandler(handler)
            attached.append((logger, handler))
        yield
    finally:
        for logger, attached_handler in attached:
            logger.removeHandler(attached_handler)
            attached_handler.close()
