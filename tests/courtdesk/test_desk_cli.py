"""`python -m courtdesk` (the `courtdesk` command): migrate, createclerk, seed, and the
settings it reads, each in a process of its own as an operator would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from courtdesk.accounts import check_password
from courtdesk.models import Clerk
from courtdesk.settings import load_settings
from tests.courtdesk.support import with_desk_orm


def desk_command(
    *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "courtdesk", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_createclerk_and_seed(desk_database_url: str, tmp_path: Path) -> None:
    env = {"DESK_DATABASE_URL": desk_database_url, "MEDIATION_DATA_DIR": str(tmp_path)}
    created = desk_command(
        "createclerk", "WangFang", "--name", "王芳", "--password", "long-enough-1", env=env
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == "clerk wangfang created"
    again = desk_command("createclerk", "wangfang", "--password", "long-enough-2", env=env)
    assert again.returncode == 1
    assert "clerk_exists" in again.stderr
    short = desk_command("createclerk", "lijing", "--password", "short", env=env)
    assert short.returncode == 1 and "bad_password" in short.stderr
    from_env = desk_command(
        "createclerk", "lijing", env={**env, "DESK_CLERK_PASSWORD": "from-the-environment"}
    )
    assert from_env.returncode == 0, from_env.stderr
    reset = desk_command(
        "createclerk", "wangfang", "--password", "a-new-password", "--update", env=env
    )
    assert reset.returncode == 0
    for _ in range(2):  # idempotent
        seeded = desk_command("seed", env=env)
        assert seeded.returncode == 0, seeded.stderr
    assert "exists already" in seeded.stdout

    async def clerks() -> list[Clerk]:
        return list(await Clerk.all().order_by("username"))

    found = with_desk_orm(desk_database_url, clerks)
    assert [(c.username, c.display_name) for c in found] == [
        ("clerk", "示范书记员"),
        ("lijing", "lijing"),
        ("wangfang", "王芳"),
    ]
    by_name = {c.username: c for c in found}
    assert check_password(by_name["clerk"].password_hash, "Demo2026!")
    assert check_password(by_name["lijing"].password_hash, "from-the-environment")
    assert check_password(by_name["wangfang"].password_hash, "a-new-password")
    assert not check_password(by_name["wangfang"].password_hash, "long-enough-1")
    assert by_name["wangfang"].session_generation == 1  # the old sessions ended


def test_migrate_makes_the_database_and_the_defaults_share_the_platforms_secrets(
    tmp_path: Path,
) -> None:
    env_without = {k: v for k, v in os.environ.items() if k not in _DESK_VARIABLES}
    result = subprocess.run(
        [sys.executable, "-m", "courtdesk", "migrate"],
        env={**env_without, "MEDIATION_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "courtdesk.sqlite3").is_file()
    # The platform writes these files; the desk reads the very same ones.
    filing_secret = (tmp_path / "court_filing_secret").read_text()
    callback_secret = (tmp_path / "court_callback_secret").read_text()
    assert filing_secret.startswith("whsec_") and callback_secret.startswith("whsec_")


_DESK_VARIABLES = {
    "DESK_DATABASE_URL",
    "DESK_SECRET_KEY",
    "COURT_FILING_SECRET",
    "COURT_CALLBACK_SECRET",
    "PLATFORM_URL",
}


def test_settings_come_from_the_environment_or_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in _DESK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDIATION_DATA_DIR", str(tmp_path))
    (tmp_path / "court_filing_secret").write_text("whsec_ZmlsaW5nLWZyb20tdGhlLXBsYXRmb3Jt\n")
    defaults = load_settings()
    assert defaults.database_url == f"sqlite://{tmp_path / 'courtdesk.sqlite3'}"
    assert defaults.platform_url == "http://127.0.0.1:8000"
    assert defaults.filing_secret == "whsec_ZmlsaW5nLWZyb20tdGhlLXBsYXRmb3Jt"  # the platform's
    assert defaults.callback_secret == (tmp_path / "court_callback_secret").read_text()
    assert load_settings().secret_key == defaults.secret_key  # kept across restarts
    monkeypatch.setenv("PLATFORM_URL", "https://mediation.example/")
    monkeypatch.setenv("COURT_CALLBACK_SECRET", "whsec_b3ZlcnJpZGRlbg==")
    monkeypatch.setenv("DESK_DATABASE_URL", "postgres://desk@db/courtdesk")
    chosen = load_settings()
    assert chosen.platform_url == "https://mediation.example"
    assert chosen.callback_secret == "whsec_b3ZlcnJpZGRlbg=="
    assert chosen.database_url == "postgres://desk@db/courtdesk"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COURT_FILING_SECRET", "whsec_not base64!"),
        ("COURT_CALLBACK_SECRET", "whsec_"),
        ("PLATFORM_URL", "file:///etc"),
    ],
)
def test_a_bad_setting_stops_the_desk_at_start(
    desk_database_url: str, tmp_path: Path, name: str, value: str
) -> None:
    env = {"DESK_DATABASE_URL": desk_database_url, "MEDIATION_DATA_DIR": str(tmp_path), name: value}
    refused = desk_command("migrate", env=env)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"courtdesk: cannot start: {name} is not a")
    assert "Traceback" not in refused.stderr


def test_a_webhook_secret_without_padding_is_accepted(
    desk_database_url: str, tmp_path: Path
) -> None:
    unpadded = "whsec_" + "QUJD" * 10 + "QQ"  # base64 of 31 bytes, its "==" dropped
    env = {
        "DESK_DATABASE_URL": desk_database_url,
        "MEDIATION_DATA_DIR": str(tmp_path),
        "COURT_CALLBACK_SECRET": unpadded,
    }
    migrated = desk_command("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
