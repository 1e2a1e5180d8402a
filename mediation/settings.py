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


def _webhook_secret(data_dir: Path, name: str) -> str:
    # Shared with the court desk (Standard Webhooks secrets, "whsec_" + base64). Generated once
    # per installation like the secret key; the embedded court desk reads the same files, a
    # real court is given them out of band (or both sides set the environment variables).
    if secret := os.environ.get(name.upper()):
        return secret
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    from cases.court.signing import secret_from_key

    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secret_from_key(secrets.token_bytes(32))
    path.write_text(secret)
    path.chmod(0o600)
    return secret


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
    # The court desk (a separate application) and the secrets that sign what crosses: the
    # platform signs filings with the first, the desk signs its callbacks with the second.
    court_desk_url: str = "http://127.0.0.1:8001"
    court_filing_secret: str = "whsec_Y291cnQtZmlsaW5nLXNlY3JldC1mb3ItdGVzdHM="
    court_callback_secret: str = "whsec_Y291cnQtY2FsbGJhY2stc2VjcmV0LWZvci10ZXN0cw=="
    # The court relay's tuning: seconds for one request, how long a relay's claim on a row
    # lasts (a killed relay's rows are sent again after it), the first retry's back-off.
    court_relay_timeout: float = 10.0
    court_relay_lease_seconds: float = 60.0
    court_relay_retry_base_seconds: float = 10.0
    # Whether web processes also run the background jobs; the scaled deployment runs them in
    # `mediation jobs` processes of their own instead (MEDIATION_BACKGROUND_JOBS=0).
    background_jobs: bool = True
    extra: dict[str, str] = field(default_factory=dict)
    # Days a court evidence link works after its filing was queued (COURT_LINK_DAYS): long
    # enough for the court's review, not forever; a filing's links can be revoked earlier.
    court_link_days: int = 30

    def __post_init__(self) -> None:
        # A secret no signature can be made with is a start-up error, not a 500 at the first
        # callback (cases.court.signing.check_secret names the setting and what is wrong).
        from cases.court.signing import check_secret

        check_secret("COURT_FILING_SECRET", self.court_filing_secret)
        check_secret("COURT_CALLBACK_SECRET", self.court_callback_secret)
        if self.court_link_days < 1:
            raise ValueError("COURT_LINK_DAYS must be a whole number of days, at least 1")

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
        court_desk_url=os.environ.get("COURT_DESK_URL", "http://127.0.0.1:8001").rstrip("/"),
        court_filing_secret=_webhook_secret(data_dir, "court_filing_secret"),
        court_callback_secret=_webhook_secret(data_dir, "court_callback_secret"),
        court_relay_timeout=float(os.environ.get("COURT_RELAY_TIMEOUT", "10")),
        court_relay_lease_seconds=float(os.environ.get("COURT_RELAY_LEASE_SECONDS", "60")),
        court_relay_retry_base_seconds=float(
            os.environ.get("COURT_RELAY_RETRY_BASE_SECONDS", "10")
        ),
        background_jobs=os.environ.get("MEDIATION_BACKGROUND_JOBS", "1") != "0",
        court_link_days=int(os.environ.get("COURT_LINK_DAYS", "30")),
    )
