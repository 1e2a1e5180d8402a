"""Production mode (MEDIATION_ENV=production): the platform refuses to start, naming every
problem, with demo keys and accounts, a secret kept in a temporary folder, plain http, or
SQLite under several web processes; a proper configuration starts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from mediation.production import demo_data_problems, settings_problems
from mediation.settings import Settings, load_settings
from tests.support.factories import cheap_password_hashing
from tests.support.live_server import free_port, run_server, run_with_orm

PRODUCTION = Settings(
    database_url="postgres://mediation@db.internal/mediation",
    secret_key="a-long-secret-from-the-environment",
    data_dir=Path("/srv/mediation"),
    base_url="https://tiaojie.changning.example",
    court_filing_secret="whsec_cHJvZHVjdGlvbi1maWxpbmctc2VjcmV0LTEyMzQ1Ng==",
    court_callback_secret="whsec_cHJvZHVjdGlvbi1jYWxsYmFjay1zZWNyZXQtMTIzNA==",
    workers=4,
    environment="production",
)
SECRETS = {
    "SECRET_KEY": PRODUCTION.secret_key,
    "COURT_FILING_SECRET": PRODUCTION.court_filing_secret,
    "COURT_CALLBACK_SECRET": PRODUCTION.court_callback_secret,
}
DEMO_SECRETS = Settings(database_url="", secret_key="", data_dir=Path())


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        pytest.param({}, None, id="fit"),
        pytest.param({"base_url": "http://tiaojie.changning.example"}, "BASE_URL", id="http"),
        pytest.param(
            {"secret_files": (Path("/tmp/mediation/secret_key"),)},
            "SECRET_KEY is kept in a temporary folder",
            id="generated secret in /tmp",
        ),
        pytest.param(
            {"secret_files": (Path("/srv/mediation/secret_key"),)},
            None,
            id="secret in a lasting folder",
        ),
        pytest.param(
            {"court_filing_secret": DEMO_SECRETS.court_filing_secret},
            "COURT_FILING_SECRET still the public demo value",
            id="demo court secret",
        ),
        pytest.param(
            {"database_url": "sqlite:///srv/mediation/mediation.sqlite3"},
            "SQLite with 4 web processes",
            id="sqlite, several workers",
        ),
        pytest.param({"log_days": 90}, "kept at least six months", id="logs kept 90 days"),
        pytest.param(
            {"database_url": "sqlite:///srv/mediation/mediation.sqlite3", "workers": 1},
            None,
            id="sqlite, one worker",
        ),
    ],
)
def test_settings_problems(changes: dict[str, object], problem: str | None) -> None:
    problems = settings_problems(PRODUCTION.with_(**changes))
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0], problems


def test_the_environment_must_be_named_correctly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIATION_ENV", "prod")
    with pytest.raises(ValueError, match="MEDIATION_ENV must be one of development, production"):
        load_settings()


async def test_demo_seeds_are_found(db: None, settings: Settings) -> None:
    from cases.accounts.actions import hash_password
    from cases.accounts.models import User
    from seeds.demo import seed_demo

    assert await demo_data_problems() == []
    await seed_demo(settings, datetime.now(UTC))
    found = await demo_data_problems()
    assert len(found) == 2
    assert "the demo partner API key is active" in found[0]
    assert "still sign in with the demo password" in found[1]
    # Changing every demo password clears the second; the partner key still stands.
    await User.all().update(password_hash=hash_password("a private password 1"))
    assert len(await demo_data_problems()) == 1


def start(env: dict[str, str], scratch: Path, workers: int = 1) -> subprocess.CompletedProcess[str]:
    """Start the server as an operator would; it must exit by itself (it refuses)."""
    port = free_port()
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mediation.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={k: v for k, v in os.environ.items() if k not in SECRETS} | env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=scratch,
    )


def test_production_refuses_to_start_naming_every_problem(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seeds.demo import seed_demo

    cheap_password_hashing(monkeypatch)
    seeded = Settings(database_url=database_url, secret_key="x", data_dir=tmp_path / "seed")
    run_with_orm(database_url, lambda: seed_demo(seeded, datetime.now(UTC)))
    finished = start(
        {
            "MEDIATION_ENV": "production",
            "DATABASE_URL": database_url,
            "MEDIATION_DATA_DIR": str(tmp_path / "data"),  # under /tmp; no SECRET_KEY set
            "BASE_URL": "http://tiaojie.changning.example",
        },
        tmp_path,
        workers=2,
    )
    assert finished.returncode == 2
    output = finished.stderr
    assert "not fit for production" in output
    expected = [
        "BASE_URL must be https://",
        "SECRET_KEY is kept in a temporary folder",
        "COURT_FILING_SECRET is kept in a temporary folder",
        "the demo partner API key is active",
        "demo account(s) still sign in with the demo password",
    ]
    # Several workers are refused on SQLite only (PostgreSQL runs this test too).
    if database_url.startswith("sqlite"):
        expected.append("SQLite with 2 web processes")
    else:
        assert "SQLite" not in output
    for problem in expected:
        assert problem in output, f"{problem!r} not named:\n{output[-3000:]}"


def test_uvicorn_started_directly_refuses_too(database_url: str, tmp_path: Path) -> None:
    """Without `mediation serve` (uvicorn --factory): the application's start-up refuses."""
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "mediation.app:create_app",
            "--port",
            str(free_port()),
        ],
        env=os.environ
        | SECRETS
        | {
            "MEDIATION_ENV": "production",
            "DATABASE_URL": database_url,
            "MEDIATION_DATA_DIR": str(tmp_path / "data"),
            "BASE_URL": "http://tiaojie.changning.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "not fit for production" in finished.stderr
    assert "BASE_URL must be https://" in finished.stderr


def test_a_proper_production_configuration_starts(database_url: str) -> None:
    env = {
        "MEDIATION_ENV": "production",
        "DATABASE_URL": database_url,
        "BASE_URL": "https://tiaojie.changning.example",
        "WEB_CONCURRENCY": "1",
        **SECRETS,
    }
    with run_server(env) as base:
        answer = httpx.get(f"{base}/signin")
        assert answer.status_code == 200
        assert answer.headers["strict-transport-security"] == "max-age=31536000"
        assert "secure" in answer.headers["set-cookie"].lower()
