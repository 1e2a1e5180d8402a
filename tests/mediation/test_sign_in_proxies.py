"""Whose address counts for the sign-in slow-down, over real HTTP against a live server:
X-Forwarded-For is believed from the configured proxies (TRUSTED_PROXIES) only, so a client
cannot rotate forged addresses around its allowance; behind a trusted proxy each forwarded
address counts on its own."""

from __future__ import annotations

import re
import time

import httpx

from cases.accounts.models import LoginFailure
from tests.support.live_server import run_server, run_with_orm
from tests.support.rooms import cheap_hashing

MOBILE, PASSWORD = "13812345678", "correct horse 1"
SLOWDOWN = 1.0
ALLOWANCE = 20  # the default: 5 failures per account, four times that per address


def seed(database_url: str) -> None:
    from cases.accounts.actions import do_register_disputant

    with cheap_hashing():
        run_with_orm(
            database_url,
            lambda: do_register_disputant(
                identifier=MOBILE, password=PASSWORD, display_name="张三"
            ),
        )


def attempt(base: str, identifier: str, password: str, forwarded: str) -> tuple[int, float]:
    with httpx.Client(base_url=base) as http:
        page = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        started = time.monotonic()
        answer = http.post(
            "/signin",
            data={"csrf_token": token.group(1), "identifier": identifier, "password": password},
            headers={"X-Forwarded-For": forwarded},
        )
        return answer.status_code, time.monotonic() - started


def counted_addresses(database_url: str) -> set[str]:
    async def addresses() -> set[str]:
        return set(await LoginFailure.all().values_list("remote_addr", flat=True))

    return run_with_orm(database_url, addresses)


def test_forwarded_addresses_from_an_untrusted_client_are_ignored(database_url: str) -> None:
    seed(database_url)
    env = {"DATABASE_URL": database_url, "SIGN_IN_SLOWDOWN_SECONDS": str(SLOWDOWN)}
    with run_server(env) as base:
        for n in range(ALLOWANCE):
            status, _ = attempt(base, f"1390000{n:04d}", "guess 123", f"198.51.100.{n}")
            assert status == 401
        # Every failure counted against the connecting address, whatever the header said ...
        assert counted_addresses(database_url) == {"127.0.0.1"}
        # ... so a fresh forged address does not escape the slow-down.
        status, elapsed = attempt(base, "13900009999", "guess 123", "198.51.100.250")
        assert status == 401
        assert elapsed >= SLOWDOWN


def test_forwarded_addresses_from_a_trusted_proxy_are_honoured(database_url: str) -> None:
    seed(database_url)
    env = {
        "DATABASE_URL": database_url,
        "SIGN_IN_SLOWDOWN_SECONDS": str(SLOWDOWN),
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    with run_server(env) as base:
        for n in range(ALLOWANCE):
            status, _ = attempt(base, f"1390000{n:04d}", "guess 123", "203.0.113.7")
            assert status == 401
        assert counted_addresses(database_url) == {"203.0.113.7"}
        # Another client behind the same proxy is not slowed for what 203.0.113.7 did ...
        status, elapsed = attempt(base, "13900009999", "guess 123", "203.0.113.8")
        assert status == 401
        assert elapsed < SLOWDOWN
        # ... and the right password from the busy address still gets in, after the wait.
        status, elapsed = attempt(base, MOBILE, PASSWORD, "203.0.113.7")
        assert status == 303
        assert elapsed >= SLOWDOWN
