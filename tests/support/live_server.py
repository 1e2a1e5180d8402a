"""A real uvicorn server in a subprocess, for tests that need true concurrency.

The database must already be migrated (the `database_url` fixture is). A test that uses a live
server must not also use the `db` or `client` fixture: seed with `run_with_orm` beforehand.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TypeVar

import httpx
from tortoise import Tortoise

from mediation.db import tortoise_config

T = TypeVar("T")
STARTUP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_with_orm(
    database_url: str, work: Callable[[], Awaitable[T]], config: dict[str, Any] | None = None
) -> T:
    """Run `work` with Tortoise initialised on `database_url`, in a loop of its own (the
    platform's models unless another application's `config` is given)."""

    async def main() -> T:
        await Tortoise.init(
            config=config or tortoise_config(database_url), _enable_global_fallback=True
        )
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


@contextmanager
def run_server(settings_env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """Serve `mediation.app:create_app` with these settings; yields the base URL.

    `settings_env` names DATABASE_URL, MEDIATION_DATA_DIR, SECRET_KEY, SMTP_HOST, SMTP_PORT
    and BASE_URL (any left out get harmless defaults: SMTP pointed at a closed port).
    """
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    with TemporaryDirectory(prefix="live-server-") as scratch:
        env = {
            **os.environ,
            "MEDIATION_DATA_DIR": str(Path(scratch) / "data"),
            "SECRET_KEY": "live-server-secret-key-not-for-production",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "1",
            "BASE_URL": base_url,
            **settings_env,
        }
        if "DATABASE_URL" not in settings_env:
            raise ValueError("run_server needs DATABASE_URL (a migrated database)")
        stdout_path = Path(scratch) / "stdout.log"
        stderr_path = Path(scratch) / "stderr.log"
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "mediation.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    # As `mediation serve`: forwarded headers are the app's (TRUSTED_PROXIES).
                    "--no-proxy-headers",
                ],
                env=env,
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
            )
            try:
                wait_until_healthy(process, base_url, stderr_path, "live server")
                yield base_url
            finally:
                stop_process(process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """End a server process the way a service manager would: SIGTERM, then SIGKILL if it has
    not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_until_healthy(
    process: subprocess.Popen[bytes], base_url: str, log: Path, what: str
) -> None:
    """Wait for `base_url`/healthz to answer 200; fail with the process's log if it exits or
    takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    state = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
    output = log.read_text(errors="replace")
    raise AssertionError(f"{what} at {base_url} did not start ({state}); log:\n{output}")
