"""Production mode (MEDIATION_ENV=production): the platform refuses to start while anything
meant for a demo or a laptop is still in place, and says everything that is wrong at once.

`settings_problems` is pure (table-tested); `demo_data_problems` reads the database for the
demo seeds (`mediation seed` / `mediation demo`), whose passwords and key are public.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mediation.settings import Settings

_DEFAULTS = Settings(database_url="", secret_key="", data_dir=Path())
# Folders emptied at reboot or readable by every user of the machine.
TEMPORARY_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm")
MIN_LOG_DAYS = 183


class NotFitForProduction(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "MEDIATION_ENV=production, but the platform is not fit for production:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )


def _is_temporary(path: Path) -> bool:
    path = path.resolve()
    roots = {Path(p).resolve() for p in (*TEMPORARY_FOLDERS, tempfile.gettempdir())}
    return any(path == root or root in path.parents for root in roots)


def settings_problems(settings: Settings) -> list[str]:
    """What in the settings is not fit for production, in plain sentences."""
    problems = []
    if not settings.https:
        problems.append(
            f"BASE_URL must be https:// in production (it is {settings.base_url}); sign-in "
            "cookies are only marked Secure, and HSTS only sent, under https."
        )
    for path in settings.secret_files:
        if _is_temporary(path):
            problems.append(
                f"{path.name.upper()} is kept in a temporary folder ({path}): lost at reboot "
                "(signing everyone out, breaking invitation links and the court's "
                f"signatures). Set {path.name.upper()}, or MEDIATION_DATA_DIR to a lasting folder."
            )
    demo_secrets = [
        name
        for name in ("court_filing_secret", "court_callback_secret")
        if getattr(settings, name) == getattr(_DEFAULTS, name)
    ]
    if demo_secrets:
        names = ", ".join(name.upper() for name in demo_secrets)
        problems.append(f"{names} still the public demo value: set a secret of your own.")
    if settings.log_days < MIN_LOG_DAYS:
        problems.append(
            f"MEDIATION_LOG_DAYS is {settings.log_days}: the security and access logs must be "
            f"kept at least six months ({MIN_LOG_DAYS} days)."
        )
    if settings.database_url.startswith("sqlite") and settings.workers > 1:
        problems.append(
            f"SQLite with {settings.workers} web processes (WEB_CONCURRENCY / --workers): "
            "use PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) for several processes."
        )
    return problems


async def demo_data_problems() -> list[str]:
    """The demo seeds in the database: the demo partner key and demo accounts whose
    password is still the published demo password."""
    from cases.accounts.actions import check_password
    from cases.accounts.models import PartnerPlatform, User
    from seeds.demo import DEMO_PARTNER_KEY, DEMO_PASSWORD, DISPUTANTS, STAFF

    problems = []
    prefix = DEMO_PARTNER_KEY.split(".", 1)[0]
    if await PartnerPlatform.filter(key_prefix=prefix, is_active=True).exists():
        problems.append(
            "the demo partner API key is active (partner key prefix "
            f"{prefix}): deactivate that partner."
        )
    usernames = [username for username, *_ in STAFF]
    mobiles = [mobile for mobile, _ in DISPUTANTS]
    demo_users = await User.filter(is_active=True, username__in=usernames) + await User.filter(
        is_active=True, mobile__in=mobiles
    )
    with_demo_password = [
        user for user in demo_users if check_password(user.password_hash, DEMO_PASSWORD)
    ]
    if with_demo_password:
        ids = ", ".join(str(user.id) for user in sorted(with_demo_password, key=lambda u: u.id))
        problems.append(
            f"{len(with_demo_password)} demo account(s) still sign in with the demo password "
            f"(user ids {ids}): deactivate them or change their passwords."
        )
    return problems


async def check_fit_for_production(settings: Settings) -> None:
    problems = settings_problems(settings) + await demo_data_problems()
    if problems:
        raise NotFitForProduction(problems)
