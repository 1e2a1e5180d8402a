"""`courtdesk` (or `python -m courtdesk`): serve, migrate, createclerk, seed.

    courtdesk serve [--host 127.0.0.1] [--port 8001]   # migrates first, then serves
    courtdesk migrate
    courtdesk createclerk USERNAME [--name 姓名] [--password ...] [--update]
    courtdesk seed                                      # the demo clerk: clerk / Demo2026!
    courtdesk relay        # deliver callbacks from this process only (serve with DESK_RELAY=0)

Settings come from the environment (courtdesk/settings.py): DESK_DATABASE_URL,
PLATFORM_URL, COURT_FILING_SECRET, COURT_CALLBACK_SECRET, DESK_SECRET_KEY, MEDIATION_DATA_DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from tortoise import Tortoise

from courtdesk.db import migrate, tortoise_config
from courtdesk.errors import DeskError
from courtdesk.settings import DEFAULT_PORT, DeskSettings, load_settings

T = TypeVar("T")
DEMO_CLERK = ("clerk", "示范书记员", "Demo2026!")


def _with_orm(database_url: str, work: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        await Tortoise.init(config=tortoise_config(database_url), _enable_global_fallback=True)
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def _create_clerk(database_url: str, username: str, name: str, password: str, update: bool) -> str:
    from courtdesk.accounts import create_clerk

    async def work() -> str:
        clerk = await create_clerk(username, name, password, datetime.now(UTC), update=update)
        return clerk.username

    return _with_orm(database_url, work)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="courtdesk", description="The court desk (法院立案庭)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate the database, then serve the desk")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("DESK_PORT", DEFAULT_PORT)))
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    commands.add_parser("migrate", help="apply the desk's migrations")
    create = commands.add_parser("createclerk", help="create a clerk account")
    create.add_argument("username")
    create.add_argument("--name", default="")
    create.add_argument(
        "--password", help="the password (default: $DESK_CLERK_PASSWORD, else asked for)"
    )
    create.add_argument("--update", action="store_true", help="reset an existing clerk's password")
    commands.add_parser("seed", help="create the demo clerk (clerk / Demo2026!) if missing")
    commands.add_parser("relay", help="deliver the outbox's callbacks until stopped")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
    except ValueError as bad:  # a malformed setting (BadSecret names which)
        print(f"courtdesk: cannot start: {bad}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        asyncio.run(migrate(settings.database_url))
        print("court desk database migrated")
        return 0
    if args.command == "serve":
        import uvicorn

        from courtdesk.app import create_app

        if not args.no_migrate:
            asyncio.run(migrate(settings.database_url))
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
        return 0
    if args.command == "createclerk":
        password = args.password or os.environ.get("DESK_CLERK_PASSWORD") or getpass.getpass()
        try:
            username = _create_clerk(
                settings.database_url, args.username, args.name, password, args.update
            )
        except DeskError as refused:
            print(f"not created: {refused.code}", file=sys.stderr)
            return 1
        print(f"clerk {username} {'updated' if args.update else 'created'}")
        return 0
    if args.command == "seed":
        asyncio.run(migrate(settings.database_url))
        username, name, password = DEMO_CLERK
        try:
            _create_clerk(settings.database_url, username, name, password, False)
        except DeskError as refused:
            if refused.code != "clerk_exists":
                raise
            print(f"demo clerk {username} exists already")
            return 0
        print(f"demo clerk created: {username} / {password}")
        return 0
    if args.command == "relay":
        _run_relay_forever(settings)
        return 0
    return 2  # argparse has refused anything else already


def _run_relay_forever(settings: DeskSettings) -> None:
    from courtdesk.app import relay_for, run_relay

    async def work() -> None:
        # Nothing wakes this process: it looks at the outbox every relay_interval seconds.
        await run_relay(relay_for(settings), asyncio.Event(), settings.relay_interval)

    with contextlib.suppress(KeyboardInterrupt):
        _with_orm(settings.database_url, work)
