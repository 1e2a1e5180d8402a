"""What the domains read of the platform's settings. The shell's `mediation.settings.Settings`
satisfies it; the domains never import the shell, and tests may pass any object with these
properties. (The court handoff's own needs are `cases.court.records.CourtSettings`.)"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cases.warnings.rules import Thresholds


class Settings(Protocol):
    @property
    def secret_key(self) -> str: ...  # keys for attestations, seals, codes and signed tokens
    @property
    def base_url(self) -> str: ...  # the platform's address, for links in notices
    @property
    def evidence_dir(self) -> Path: ...  # where content-addressed files are kept
    @property
    def respondent_reply_days(self) -> int: ...
    @property
    def max_login_failures(self) -> int: ...  # also limits wrong passwords when signing
    @property
    def governance_thresholds(self) -> Thresholds: ...  # the early warnings' parameters
