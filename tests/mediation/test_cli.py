"""The CLI as a newcomer runs it: migrate and seed a fresh SQLite database, twice."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_demo_serves_the_platform_and_the_court_desk(tmp_path: Path) -> None:
    """The first quick-start command: both applications up, the demo clerk can sign in to the
    desk, and stopping the demo stops the desk too."""
    import signal
    import time

    import httpx

    from tests.support.live_server import free_port

    platform_port, desk_port, mail_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite://{tmp_path / 'data' / 'demo.sqlite3'}",
        "COURT_DESK_URL": f"http://127.0.0.1:{desk_port}",
        "SMTP_PORT": str(mail_port),
    }
    env.pop("DESK_DATABASE_URL", None)
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        demo = subprocess.Popen(
            [sys.executable, "-m", "mediation.cli", "demo", "--port", str(platform_port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    platform, desk = f"http://127.0.0.1:{platform_port}", f"http://127.0.0.1:{desk_port}"
    try:
        deadline, urls = time.monotonic() + 90, (platform, desk)
        while True:
            try:
                up = [httpx.get(f"{url}/healthz", timeout=1).status_code for url in urls]
                if up == [200, 200]:
                    break
            except httpx.TransportError:
                pass
            assert demo.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        with httpx.Client(base_url=desk) as clerk:
            page = clerk.get("/signin")
            marker = 'name="csrf_token" value="'
            start = page.text.index(marker) + len(marker)
            token = page.text[start : page.text.index('"', start)]
            signed_in = clerk.post(
                "/signin",
                data={"csrf_token": token, "username": "clerk", "password": "Demo2026!"},
            )
            assert signed_in.status_code == 303, signed_in.text
            assert clerk.get("/inbox").status_code == 200
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)
    assert f"The court desk (clerks) is at {desk}/" in log.read_text()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{desk}/healthz", timeout=2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COURT_CALLBACK_SECRET", "whsec_not base64!"),
        ("COURT_FILING_SECRET", "whsec_QUJDR"),
        ("COURT_LINK_DAYS", "0"),
    ],
)
def test_a_bad_setting_stops_the_platform_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """Once a 500 at the first callback; now the command says which setting is wrong."""
    monkeypatch.setenv(name, value)
    refused = run_cli(tmp_path, "migrate")
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"mediation: cannot start: {name} ")
    assert "Traceback" not in refused.stderr
    from mediation.settings import Settings

    with pytest.raises(ValueError, match=name):
        Settings(database_url="sqlite://:memory:", secret_key="k", data_dir=tmp_path).with_(
            **{name.lower(): int(value) if value.isdigit() else value}
        )


def test_a_webhook_secret_without_padding_starts_the_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COURT_CALLBACK_SECRET", "whsec_" + "QUJD" * 10 + "QQ")
    migrated = run_cli(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr


def _desk_pids(port: int) -> list[int]:
    """Processes serving the court desk on `port` (from /proc: the demo's grandchildren may
    be reparented, so they are looked for by what they run, not by parent)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"courtdesk" in argv and str(port).encode() in argv:
            pids.append(int(entry.name))
    return pids


def _start_demo(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
    from tests.support.live_server import free_port

    env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite://{tmp_path / 'data' / 'demo.sqlite3'}",
        "SMTP_PORT": str(free_port()),
    }
    for name in ("BASE_URL", "COURT_DESK_URL", "DESK_DATABASE_URL", "PLATFORM_URL"):
        env.pop(name, None)
    log = tmp_path / "demo.log"
    with log.open("wb") as output:
        demo = subprocess.Popen(
            [sys.executable, "-m", "mediation.cli", "demo", *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return demo, log


def _wait_until(check: Any, demo: subprocess.Popen[bytes], log: Path, seconds: float = 90) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not check():
        assert demo.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.3)


def _up(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _mail_bodies(folder: Path) -> list[str]:
    import email
    from email import policy

    bodies = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        bodies.append(part.get_content() if part is not None else "")
    return bodies


def test_demo_on_other_ports_links_there_and_sigterm_stops_the_desk(tmp_path: Path) -> None:
    """`demo --port P --desk-port D` (no BASE_URL set): the platform's links name port P, the
    desk serves on D and reaches the platform at P; SIGTERM stops both (issue 9, findings 10
    and 14)."""
    import signal
    import time

    from tests.support.live_server import free_port

    platform_port, desk_port = free_port(), free_port()
    demo, log = _start_demo(tmp_path, "--port", str(platform_port), "--desk-port", str(desk_port))
    platform, desk = f"http://127.0.0.1:{platform_port}", f"http://127.0.0.1:{desk_port}"
    try:
        _wait_until(lambda: _up(platform) and _up(desk), demo, log)
        # The seeded invitations are mailed by the background jobs: their links name port P.
        mail = tmp_path / "data" / "mail"
        _wait_until(lambda: any("/invitations/" in b for b in _mail_bodies(mail)), demo, log)
        links = [b for b in _mail_bodies(mail) if "/invitations/" in b]
        assert all(f"{platform}/invitations/" in body for body in links), links
        assert ":8000/" not in "".join(_mail_bodies(mail))
        assert f"Open {platform}/ in a browser." in log.read_text()
        assert f"The court desk (clerks) is at {desk}/" in log.read_text()
        desks = _desk_pids(desk_port)
        assert len(desks) == 1, desks
        # The desk was told where the platform really is.
        environ = Path(f"/proc/{desks[0]}/environ").read_bytes().split(b"\0")
        assert f"PLATFORM_URL={platform}".encode() in environ
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _desk_pids(desk_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _desk_pids(desk_port) == [], "the court desk outlived the demo"
    assert not _up(desk)


def test_the_desk_dies_with_a_killed_demo(tmp_path: Path) -> None:
    """kill -9 leaves the demo no chance to stop the desk: the kernel does (PR_SET_PDEATHSIG)."""
    import signal
    import time

    from tests.support.live_server import free_port

    platform_port, desk_port = free_port(), free_port()
    demo, log = _start_demo(tmp_path, "--port", str(platform_port), "--desk-port", str(desk_port))
    try:
        _wait_until(lambda: bool(_desk_pids(desk_port)), demo, log)
    finally:
        demo.send_signal(signal.SIGKILL)
        demo.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _desk_pids(desk_port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _desk_pids(desk_port) == [], "the court desk outlived the killed demo"
