"""Refusals with a stable code; the pages translate the code (courtdesk/messages.py)."""

from __future__ import annotations


class DeskError(Exception):
    """A request the desk refuses; nothing was changed. `params` fill the message."""

    status_code = 409

    def __init__(self, code: str, status_code: int | None = None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.params = params
