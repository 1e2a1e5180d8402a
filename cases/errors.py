"""Domain errors. Each carries a stable code (translated by the shell) and its HTTP status."""

from __future__ import annotations


class CaseError(Exception):
    status_code = 400

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class CaseNotFound(CaseError):
    """Also raised when the case exists but the asker may not see it: never leak existence."""

    status_code = 404


class CaseConflict(CaseError):
    """The case is not in a state that allows this (e.g. answering a closed invitation)."""

    status_code = 409
