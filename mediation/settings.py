"""Settings read once from the environment; every default suits the embedded single-machine mode."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path


def _data_dir() -> Path:
    return Path(os.environ.get("MEDIATION_DATA_DIR", "data")).resolve()


def _secret_key(data_dir: Path) -> str:
    # A stable key survives restarts so signed cookies and invitation links stay valid; it is
    # generated once per installation rather than shipped, so no two deployments share it.
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    data_dir: Path
    base_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_sender: str = "调解平台 <noreply@mediation.changning.example>"
    # Days a respondent has to answer the invitation before the case ends for want of consent
    # (online mediation rules Art. 15: refusal or no contact ends it). Working-day counting
    # comes with the deadline engine; until then a plain number of days, configurable.
    respondent_reply_days: int = 5
    cookie_secure: bool = False
    max_login_failures: int = 5
    login_lockout_minutes: int = 15
    redis_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings() -> Settings:
    data_dir = _data_dir()
    return Settings(
        database_url=os.environ.get("DATABASE_URL", f"sqlite://{data_dir / 'mediation.sqlite3'}"),
        secret_key=_secret_key(data_dir),
        data_dir=data_dir,
        base_url=os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        smtp_host=os.environ.get("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(os.environ.get("SMTP_PORT", "8025")),
        respondent_reply_days=int(os.environ.get("RESPONDENT_REPLY_DAYS", "5")),
        cookie_secure=os.environ.get("COOKIE_SECURE", "") == "1",
        redis_url=os.environ.get("REDIS_URL") or None,
    )
