"""The CLI as a newcomer runs it: migrate and seed a fresh SQLite database, twice."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite://{tmp_path / 'data' / 'cli.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "mediation.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_seed_createuser(tmp_path: Path) -> None:
    migrated = run_cli(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "database migrated" in migrated.stdout

    seeded = run_cli(tmp_path, "seed")
    assert seeded.returncode == 0, seeded.stderr
    assert "+ case CNM-" in seeded.stdout

    again = run_cli(tmp_path, "seed")
    assert again.returncode == 0, again.stderr
    assert "demo data loaded (0 new records)" in again.stdout

    created = run_cli(
        tmp_path,
        "createuser",
        "--username",
        "clerk2",
        "--role",
        "court_clerk",
        "--password",
        "long enough pw",
    )
    assert created.returncode == 0, created.stderr
    assert "created court_clerk clerk2" in created.stdout

    duplicate = run_cli(
        tmp_path,
        "createuser",
        "--username",
        "clerk2",
        "--role",
        "court_clerk",
        "--password",
        "long enough pw",
    )
    assert duplicate.returncode == 2
    assert "identifier_taken" in duplicate.stderr

    # The key is generated once per installation and kept.
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("args", [["createuser", "--username", "x", "--role", "disputant"]])
def test_cli_rejects_bad_arguments(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(tmp_path, *args)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
