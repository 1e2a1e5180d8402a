"""Settings read once from the environment; every default suits the embedded single-machine mode."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from cases.warnings.rules import Thresholds
from courtwire.signing import check_secret, secret_from_key


def _data_dir() -> Path:
    return Path(os.environ.get("MEDIATION_DATA_DIR", "data")).resolve()


def _secret_key(data_dir: Path) -> tuple[str, Path | None]:
    """The key, and the file it was read from or generated into (None: from the environment).

    A stable key survives restarts so signed cookies and invitation links stay valid; it is
    generated once per installation rather than shipped, so no two deployments share it."""
    if key := os.environ.get("SECRET_KEY"):
        return key, None
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip(), path
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key, path


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def _webhook_secret(data_dir: Path, name: str) -> tuple[str, Path | None]:
    # Shared with the court desk (Standard Webhooks secrets, "whsec_" + base64). Generated once
    # per installation like the secret key; the embedded court desk reads the same files, a
    # real court is given them out of band (or both sides set the environment variables).
    if secret := os.environ.get(name.upper()):
        return secret, None
    path = data_dir / name
    if path.exists():
        return path.read_text().strip(), path
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secret_from_key(secrets.token_bytes(32))
    path.write_text(secret)
    path.chmod(0o600)
    return secret, path


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
    # The limits within which a merchant sets its own time to answer first, in working days
    # (cases.negotiation; 10 by default): the platform administrator's to set.
    merchant_answer_days_min: int = 3
    merchant_answer_days_max: int = 15
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
    # "production" turns on the start-up checks of mediation/production.py (MEDIATION_ENV).
    environment: str = "development"
    # The files the secrets were read from or generated into (those not from the environment).
    secret_files: tuple[Path, ...] = ()
    # Web processes serving this database (`mediation serve --workers`, WEB_CONCURRENCY).
    workers: int = 1
    # Origins besides BASE_URL's whose pages may open the rooms' WebSocket (ALLOWED_ORIGINS).
    allowed_origins: tuple[str, ...] = ()
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For / -Proto are
    # believed (TRUSTED_PROXIES); from anyone else those headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    # An address past its allowance of failed sign-ins waits this long per attempt instead
    # of being refused (a shared office must still get in).
    sign_in_slowdown_seconds: float = 3.0
    # The security log (sign-ins, failures, admin actions, court deliveries) and the access
    # log, rotated daily and kept `log_days` days (over six months); by default in the data
    # folder's logs/ (MEDIATION_LOG_DIR, MEDIATION_LOG_DAYS).
    log_dir_path: Path | None = None
    log_days: int = 190
    extra: dict[str, str] = field(default_factory=dict)
    # Days a court evidence link works after its filing was queued (COURT_LINK_DAYS): long
    # enough for the court's review, not forever; a filing's links can be revoked earlier.
    court_link_days: int = 30
    # The partner API's budget per API key (a token bucket): requests per second, and the
    # burst a key may spend at once. High enough for the intake benchmark (~1000 req/s);
    # shared by all processes through Redis when REDIS_URL is set.
    partner_rate_per_second: float = 2000.0
    partner_rate_burst: float = 4000.0
    # Partners' webhooks (cases.webhooks): the relay's seconds for one request and first
    # retry's back-off, how long an old secret stays valid after a rotation, and whether an
    # endpoint may be plain http or a local address (a demo or test receiver; never in
    # production).
    webhook_relay_timeout: float = 10.0
    webhook_relay_retry_base_seconds: float = 10.0
    webhook_secret_grace_hours: float = 24.0
    webhook_allow_http: bool = False
    # The repeat-claimant signal staff handling a case see (cases.duplicates): at least this
    # many filings against at least this many respondents within this many days
    # (REPEAT_CLAIMANT_FILINGS, _RESPONDENTS, _DAYS). A signal only: nothing acts on it.
    repeat_claimant_filings: int = 5
    repeat_claimant_respondents: int = 4
    repeat_claimant_days: int = 30
    # District governance's early warnings (cases.warnings): a surge is more than
    # GOVERNANCE_SURGE_FACTOR times the 8-week median (GOVERNANCE_SURGE_WEEKS) and at least
    # GOVERNANCE_SURGE_FLOOR filings in 7 days; a merchant answering less than
    # GOVERNANCE_RESPONSE_RATE of at least GOVERNANCE_RESPONSE_MINIMUM disputes filed in
    # GOVERNANCE_RESPONSE_DAYS; GOVERNANCE_BURST_FILINGS similar filings against one
    # respondent in GOVERNANCE_BURST_HOURS. The regulator told of an alert by email:
    # GOVERNANCE_REGULATOR_EMAIL (market regulation; none: the button says so).
    governance_surge_factor: float = 3.0
    governance_surge_floor: int = 10
    governance_surge_weeks: int = 8
    governance_response_rate: float = 0.5
    governance_response_minimum: int = 10
    governance_response_days: int = 30
    governance_burst_filings: int = 10
    governance_burst_hours: int = 48
    governance_regulator_email: str = ""

    def __post_init__(self) -> None:
        # A secret no signature can be made with is a start-up error, not a 500 at the first
        # callback (courtwire.signing.check_secret names the setting and what is wrong).
        check_secret("COURT_FILING_SECRET", self.court_filing_secret)
        check_secret("COURT_CALLBACK_SECRET", self.court_callback_secret)
        if self.partner_rate_per_second <= 0 or self.partner_rate_burst < 1:
            raise ValueError("PARTNER_RATE_PER_SECOND must be above 0, PARTNER_RATE_BURST >= 1")
        if self.court_link_days < 1:
            raise ValueError("COURT_LINK_DAYS must be a whole number of days, at least 1")
        self.governance_thresholds  # noqa: B018  (a nonsense threshold is a start-up error)

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are Secure whenever the platform is served over https, asked or not."""
        return self.cookie_secure or self.https

    @property
    def governance_thresholds(self) -> Thresholds:
        return Thresholds(
            surge_factor=self.governance_surge_factor,
            surge_floor=self.governance_surge_floor,
            surge_weeks=self.governance_surge_weeks,
            response_rate_below=self.governance_response_rate,
            response_minimum_asked=self.governance_response_minimum,
            response_days=self.governance_response_days,
            burst_filings=self.governance_burst_filings,
            burst_hours=self.governance_burst_hours,
        )

    @property
    def log_dir(self) -> Path:
        return self.log_dir_path or self.data_dir / "logs"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


ENVIRONMENTS = ("development", "production")


def _environment() -> str:
    value = os.environ.get("MEDIATION_ENV", "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise ValueError(f"MEDIATION_ENV must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")
    return value


def load_settings() -> Settings:
    data_dir = _data_dir()
    secret_key, secret_key_file = _secret_key(data_dir)
    filing_secret, filing_secret_file = _webhook_secret(data_dir, "court_filing_secret")
    callback_secret, callback_secret_file = _webhook_secret(data_dir, "court_callback_secret")
    files = (secret_key_file, filing_secret_file, callback_secret_file)
    log_dir = os.environ.get("MEDIATION_LOG_DIR")
    return Settings(
        database_url=os.environ.get("DATABASE_URL", f"sqlite://{data_dir / 'mediation.sqlite3'}"),
        secret_key=secret_key,
        secret_files=tuple(path for path in files if path is not None),
        data_dir=data_dir,
        base_url=os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        smtp_host=os.environ.get("SMTP_HOST", "127.0.0.1"),
        smtp_port=int(os.environ.get("SMTP_PORT", "8025")),
        respondent_reply_days=int(os.environ.get("RESPONDENT_REPLY_DAYS", "5")),
        merchant_answer_days_min=int(os.environ.get("MERCHANT_ANSWER_DAYS_MIN", "3")),
        merchant_answer_days_max=int(os.environ.get("MERCHANT_ANSWER_DAYS_MAX", "15")),
        cookie_secure=os.environ.get("COOKIE_SECURE", "") == "1",
        redis_url=os.environ.get("REDIS_URL") or None,
        court_desk_url=os.environ.get("COURT_DESK_URL", "http://127.0.0.1:8001").rstrip("/"),
        court_filing_secret=filing_secret,
        court_callback_secret=callback_secret,
        court_relay_timeout=float(os.environ.get("COURT_RELAY_TIMEOUT", "10")),
        court_relay_lease_seconds=float(os.environ.get("COURT_RELAY_LEASE_SECONDS", "60")),
        court_relay_retry_base_seconds=float(
            os.environ.get("COURT_RELAY_RETRY_BASE_SECONDS", "10")
        ),
        background_jobs=os.environ.get("MEDIATION_BACKGROUND_JOBS", "1") != "0",
        environment=_environment(),
        workers=int(os.environ.get("WEB_CONCURRENCY", "1") or "1"),
        allowed_origins=_list("ALLOWED_ORIGINS"),
        trusted_proxies=_list("TRUSTED_PROXIES"),
        sign_in_slowdown_seconds=float(os.environ.get("SIGN_IN_SLOWDOWN_SECONDS", "3")),
        log_dir_path=Path(log_dir).resolve() if log_dir else None,
        log_days=int(os.environ.get("MEDIATION_LOG_DAYS", "190")),
        court_link_days=int(os.environ.get("COURT_LINK_DAYS", "30")),
        partner_rate_per_second=float(os.environ.get("PARTNER_RATE_PER_SECOND", "2000")),
        partner_rate_burst=float(os.environ.get("PARTNER_RATE_BURST", "4000")),
        webhook_relay_timeout=float(os.environ.get("WEBHOOK_RELAY_TIMEOUT", "10")),
        webhook_relay_retry_base_seconds=float(
            os.environ.get("WEBHOOK_RELAY_RETRY_BASE_SECONDS", "10")
        ),
        webhook_secret_grace_hours=float(os.environ.get("WEBHOOK_SECRET_GRACE_HOURS", "24")),
        webhook_allow_http=os.environ.get("WEBHOOK_ALLOW_HTTP", "") == "1",
        repeat_claimant_filings=int(os.environ.get("REPEAT_CLAIMANT_FILINGS", "5")),
        repeat_claimant_respondents=int(os.environ.get("REPEAT_CLAIMANT_RESPONDENTS", "4")),
        repeat_claimant_days=int(os.environ.get("REPEAT_CLAIMANT_DAYS", "30")),
        governance_surge_factor=float(os.environ.get("GOVERNANCE_SURGE_FACTOR", "3")),
        governance_surge_floor=int(os.environ.get("GOVERNANCE_SURGE_FLOOR", "10")),
        governance_surge_weeks=int(os.environ.get("GOVERNANCE_SURGE_WEEKS", "8")),
        governance_response_rate=float(os.environ.get("GOVERNANCE_RESPONSE_RATE", "0.5")),
        governance_response_minimum=int(os.environ.get("GOVERNANCE_RESPONSE_MINIMUM", "10")),
        governance_response_days=int(os.environ.get("GOVERNANCE_RESPONSE_DAYS", "30")),
        governance_burst_filings=int(os.environ.get("GOVERNANCE_BURST_FILINGS", "10")),
        governance_burst_hours=int(os.environ.get("GOVERNANCE_BURST_HOURS", "48")),
        governance_regulator_email=os.environ.get("GOVERNANCE_REGULATOR_EMAIL", "").strip(),
    )
