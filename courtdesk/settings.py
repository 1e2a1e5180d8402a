"""The desk's settings, read once from the environment.

Every default suits the embedded mode, where `mediation demo` starts the desk beside the
platform on one machine: the desk's own SQLite file in the same data directory, the
platform on port 8000, and the two webhook secrets read from the files the platform
generates there (whichever of the two starts first writes them).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from courtwire.signing import check_secret, secret_from_key

DEFAULT_PORT = 8001


def data_dir() -> Path:
    return Path(os.environ.get("MEDIATION_DATA_DIR", "data")).resolve()


def _generated_once(folder: Path, name: str, make: str) -> str:
    """The value kept in `folder/name`, written there first if missing.

    Created exclusively, so a platform and a desk starting at the same moment end up with
    one value: whoever loses the race reads the winner's file.
    """
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(make)
            return make
    return path.read_text().strip()


def _webhook_secret(folder: Path, name: str) -> str:
    # The same files as the platform's (mediation/settings.py), so the embedded pair agrees
    # without any set-up; a real deployment sets both environment variables on both sides.
    if secret := os.environ.get(name.upper()):
        return secret
    return _generated_once(folder, name, secret_from_key(secrets.token_bytes(32)))


@dataclass(frozen=True)
class DeskSettings:
    database_url: str
    secret_key: str  # signs the clerks' session cookies
    filing_secret: str  # verifies filings (COURT_FILING_SECRET)
    callback_secret: str  # signs callbacks (COURT_CALLBACK_SECRET)
    platform_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = False
    # Seconds between outbox passes when nothing new was decided (a decision wakes the relay
    # at once); also how soon a failed delivery is looked at again, at the earliest.
    relay_interval: float = 2.0
    relay: bool = True  # deliver callbacks from this process
    max_sign_in_failures: int = 5
    sign_in_lockout_minutes: int = 15
    evidence_timeout: float = 20.0  # seconds for one evidence fetch from the platform

    def __post_init__(self) -> None:
        # A secret no signature can be made with stops the desk at start-up with the
        # setting's name, rather than failing every filing with a 500.
        check_secret("COURT_FILING_SECRET", self.filing_secret)
        check_secret("COURT_CALLBACK_SECRET", self.callback_secret)
        # The only host evidence is fetched from (courtdesk/evidence.py).
        parts = urlsplit(self.platform_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"PLATFORM_URL is not an http(s) URL: {self.platform_url!r}")

    def with_(self, **changes: object) -> DeskSettings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings() -> DeskSettings:
    folder = data_dir()
    return DeskSettings(
        database_url=os.environ.get(
            "DESK_DATABASE_URL", f"sqlite://{folder / 'courtdesk.sqlite3'}"
        ),
        secret_key=os.environ.get("DESK_SECRET_KEY")
        or _generated_once(folder, "desk_secret_key", secrets.token_urlsafe(48)),
        filing_secret=_webhook_secret(folder, "court_filing_secret"),
        callback_secret=_webhook_secret(folder, "court_callback_secret"),
        platform_url=os.environ.get("PLATFORM_URL", "http://127.0.0.1:8000").rstrip("/"),
        cookie_secure=os.environ.get("COOKIE_SECURE", "") == "1",
        relay_interval=float(os.environ.get("DESK_RELAY_INTERVAL", "2.0")),
        relay=os.environ.get("DESK_RELAY", "1") != "0",
    )
