"""The `mediation` command: migrate, seed, serve, createuser, createpartner, demo, jobs,
repair-text, recount-figures, court export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar
from urllib.parse import urlsplit

from tortoise import Tortoise

from cases.accounts.models import STAFF_ROLES, Organisation, Role
from cases.clock import utcnow
from mediation.db import migrate, tortoise_config
from mediation.settings import Settings, load_settings

T = TypeVar("T")


def with_orm(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Init, run and close in one asyncio.run (aiosqlite's thread would otherwise hang exit)."""

    async def run() -> T:
        await Tortoise.init(config=tortoise_config(settings.database_url))
        try:
            return await work()
        finally:
            await Tortoise.close_connections()

    return asyncio.run(run())


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(migrate(settings.database_url))
    print(f"database migrated: {_redacted(settings.database_url)}")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from seeds.demo import seed_demo

    created = with_orm(settings, lambda: seed_demo(settings, utcnow(), history=True))
    for line in created:
        print(f"  + {line}")
    print(f"demo data loaded ({len(created)} new records)")
    return 0


def cmd_createuser(settings: Settings, args: argparse.Namespace) -> int:
    from cases.accounts.actions import AccountError, RegistrationError, do_create_staff

    password = args.password or getpass.getpass("Password: ")

    async def work() -> int:
        org_id = None
        if args.organisation:
            org = await Organisation.get_or_none(code=args.organisation)
            if org is None:
                print(f"no organisation with code {args.organisation}", file=sys.stderr)
                return 2
            org_id = org.id
        try:
            user = await do_create_staff(
                username=args.username,
                password=password,
                role=Role(args.role),
                display_name=args.name or args.username,
                organisation_id=org_id,
            )
        except RegistrationError as error:
            print(f"not created: {error.field_errors}", file=sys.stderr)
            return 2
        except AccountError as error:
            print(f"not created: {error.code}", file=sys.stderr)
            return 2
        print(f"created {user.role} {user.username}")
        return 0

    return with_orm(settings, work)


def cmd_createpartner(settings: Settings, args: argparse.Namespace) -> int:
    from cases.accounts.actions import AccountError, RegistrationError, do_create_partner
    from cases.accounts.models import PartnerPlatform
    from cases.webhooks.actions import do_create_partner_admin

    password = None
    if args.admin_username:
        password = args.admin_password or getpass.getpass("Partner admin's password: ")

    async def work() -> int:
        partner = await PartnerPlatform.get_or_none(name=args.name)
        if partner is None:
            partner, key = await do_create_partner(args.name)
            print(f"partner {partner.name} created. API key (shown once, keep it safe):\n{key}")
        elif not args.admin_username:
            print(f"partner {args.name} exists already", file=sys.stderr)
            return 2
        if args.admin_username and password is not None:
            try:
                user = await do_create_partner_admin(
                    partner.id,
                    username=args.admin_username,
                    password=password,
                    display_name=args.admin_name or args.admin_username,
                )
            except RegistrationError as error:
                print(f"partner admin not created: {error.field_errors}", file=sys.stderr)
                return 2
            except AccountError as error:
                print(f"partner admin not created: {error.code}", file=sys.stderr)
                return 2
            print(f"created partner admin {user.username} for {partner.name}")
        return 0

    return with_orm(settings, work)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    if settings.environment == "production":
        # Checked here too, before any worker starts: a worker refusing in its own start-up
        # would only be restarted or leave the supervisor exiting 0.
        from mediation.production import NotFitForProduction, check_fit_for_production

        try:
            with_orm(
                settings, lambda: check_fit_for_production(settings.with_(workers=args.workers))
            )
        except NotFitForProduction as refusal:
            print(refusal, file=sys.stderr)
            return 2
    # Each worker's settings see how many there are (production mode refuses SQLite with
    # several); forwarded headers are believed by the app from TRUSTED_PROXIES only, so
    # uvicorn's own trust of 127.0.0.1 is off.
    os.environ["WEB_CONCURRENCY"] = str(args.workers)
    uvicorn.run(
        "mediation.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,
        log_level="info",
    )
    return 0


def cmd_jobs(settings: Settings, args: argparse.Namespace) -> int:
    """Run the background jobs on their own (the scaled deployment's worker process)."""
    from mediation.app import run_background_jobs
    from mediation.notify import Notifier
    from mediation.security_log import security_logs

    async def work() -> None:
        await run_background_jobs(Notifier.from_settings(settings), args.interval, settings)

    # Court deliveries made here are kept in the security log like the web processes' own.
    with contextlib.suppress(KeyboardInterrupt), security_logs(settings):
        with_orm(settings, work)
    return 0


def cmd_repair_text(settings: Settings, args: argparse.Namespace) -> int:
    """Replace characters no store or encoder accepts (stored before the doors checked)."""
    from mediation.repair import do_repair_text

    found = with_orm(settings, lambda: do_repair_text(dry_run=args.dry_run))
    for column, count in sorted(found.items()):
        print(f"  {column}: {count}")
    verb = "found" if args.dry_run else "repaired"
    print(f"{sum(found.values())} stored values {verb} (bad characters replaced by U+FFFD)")
    return 0


def cmd_recount_figures(settings: Settings, args: argparse.Namespace) -> int:
    """Rebuild the governance figures (each case's facts and the rollups) from the record."""
    from cases.analytics.actions import recount

    counted = with_orm(settings, lambda: recount(utcnow()))
    print(f"figures recounted from {counted} cases")
    return 0


def cmd_court_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write the package that would be sent to the court for a case, for inspection."""
    from cases.court.handoff import export_filing

    try:
        message = with_orm(
            settings, lambda: export_filing(args.case_number, args.format, settings, utcnow())
        )
    except LookupError:
        print(f"no case numbered {args.case_number}", file=sys.stderr)
        return 2
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(message.body)
        print(f"{message.content_type} written to {args.out} (sha256 {message.sha256})")
    else:
        sys.stdout.write(message.body + "\n")
    return 0


def cmd_court_revoke_links(settings: Settings, args: argparse.Namespace) -> int:
    """Make a filing's evidence links stop working at once (before COURT_LINK_DAYS)."""
    from cases.court.actions import do_revoke_court_links
    from cases.errors import CaseNotFound

    try:
        changed = with_orm(
            settings, lambda: do_revoke_court_links(args.filing_id, "admin", utcnow())
        )
    except CaseNotFound:
        print(f"no filing {args.filing_id}", file=sys.stderr)
        return 2
    print(
        f"the links of filing {args.filing_id} "
        + ("are revoked" if changed else "were revoked already")
    )
    return 0


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child started with this dies when the demo does, even by kill -9
    (PR_SET_PDEATHSIG); elsewhere only the orderly stop below ends it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import signal

    parent = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls it

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def start_court_desk(settings: Settings, host: str, platform_url: str) -> subprocess.Popen[bytes]:
    """The court desk (courtdesk), a separate application with its own database, in a
    process of its own beside the platform: the embedded default serves it too. It reads the
    two webhook secrets from the same data directory, so the pair agrees without set-up."""
    desk_port = urlsplit(settings.court_desk_url).port or 8001
    env = {
        **os.environ,
        "MEDIATION_DATA_DIR": str(settings.data_dir),
        "PLATFORM_URL": platform_url,
        "COURT_FILING_SECRET": settings.court_filing_secret,
        "COURT_CALLBACK_SECRET": settings.court_callback_secret,
    }
    desk = [sys.executable, "-m", "courtdesk"]
    subprocess.run([*desk, "seed"], env=env, check=True)  # migrates, adds the demo clerk
    return subprocess.Popen(
        [*desk, "serve", "--host", host, "--port", str(desk_port)],
        env=env,
        preexec_fn=_die_with_parent(),  # the desk must not outlive the demo
    )


def start_webhook_receiver(port: int) -> subprocess.Popen[bytes]:
    """The demo partner's webhook receiver (mediation.demo_receiver), where the seeded
    endpoint points: it prints each verified delivery in this console."""
    from seeds.demo import DEMO_WEBHOOK_SECRET

    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mediation.demo_receiver",
            "--port",
            str(port),
            "--secret",
            DEMO_WEBHOOK_SECRET,
        ],
        preexec_fn=_die_with_parent(),  # the receiver must not outlive the demo
    )


def _stop_on_sigterm() -> None:
    """SIGTERM stops the demo as Ctrl-C does, running its clean-up (the desk stops too).

    uvicorn catches SIGTERM to shut down gracefully and then raises it again with the handler
    it found at start; by default that kills the process on the spot, before any `finally`,
    which left the court desk running. This handler turns it into an orderly exit instead.
    """
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from mediation.mailsink import start_mail_sink

    _stop_on_sigterm()
    cmd_migrate(settings, args)
    cmd_seed(settings, args)
    sink = start_mail_sink(settings.data_dir / "mail", settings.smtp_port)
    children: list[subprocess.Popen[bytes]] = []
    try:
        # The desk reaches the platform at its real address, as the platform's links name it.
        children.append(start_court_desk(settings, args.host, settings.base_url))
        children.append(start_webhook_receiver(args.receiver_port))
        _print_demo_guide(settings)
        return cmd_serve(settings, args)
    finally:
        for child in children:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        sink.stop()


def _print_demo_guide(settings: Settings) -> None:
    from seeds.demo import (
        DEMO_PARTNER_ADMIN,
        DEMO_PARTNER_NAME,
        DEMO_PASSWORD,
        DISPUTANTS,
        STAFF,
    )

    print(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD}):")
    for mobile, name in DISPUTANTS:
        print(f"  disputant     {mobile}  {name}")
    for username, role, name, _ in STAFF:
        print(f"  {role.value:<13} {username:<11}  {name}")
    print(f"Mail sent by the platform is kept in {settings.data_dir / 'mail'} (and logged below).")
    print("  court clerk   clerk        示范书记员 (on the court desk)")
    username, name = DEMO_PARTNER_ADMIN
    print(f"  partner_admin {username:<11}  {name} (webhooks of {DEMO_PARTNER_NAME})")
    print(
        "The demo partner's webhook receiver prints each verified delivery below"
        " ([webhook receiver] lines)."
    )
    print(f"\nOpen {settings.base_url}/ in a browser.")
    print(f"The court desk (clerks) is at {settings.court_desk_url}/\n")


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mediation", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("seed", help="load demo data (idempotent)").set_defaults(func=cmd_seed)
    for name, func, helptext in (
        ("serve", cmd_serve, "serve the platform"),
        ("demo", cmd_demo, "migrate, seed, and serve with a local mail sink"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000, help="also the default BASE_URL's port")
        p.add_argument("--workers", type=int, default=1)
        if name == "demo":
            p.add_argument(
                "--desk-port",
                type=int,
                help="the court desk's port (default: COURT_DESK_URL's, else 8001)",
            )
            p.add_argument(
                "--receiver-port",
                type=int,
                default=8002,
                help="the demo partner's webhook receiver's port (default 8002)",
            )
        p.set_defaults(func=func)
    user = sub.add_parser("createuser", help="create a staff account")
    user.add_argument("--username", required=True)
    user.add_argument("--role", required=True, choices=[r.value for r in Role if r in STAFF_ROLES])
    user.add_argument("--name")
    user.add_argument("--organisation", help="organisation code (mediators and org admins)")
    user.add_argument("--password", help="omit to be asked")
    user.set_defaults(func=cmd_createuser)
    partner = sub.add_parser("createpartner", help="register a partner platform; prints its key")
    partner.add_argument("name")
    partner.add_argument(
        "--admin-username", help="also create its administrator (webhooks, delivery log)"
    )
    partner.add_argument("--admin-name")
    partner.add_argument("--admin-password", help="omit to be asked")
    partner.set_defaults(func=cmd_createpartner)
    jobs = sub.add_parser("jobs", help="run notice delivery and deadline jobs in this process")
    jobs.add_argument("--interval", type=float, default=5.0)
    jobs.set_defaults(func=cmd_jobs)
    repair = sub.add_parser(
        "repair-text",
        help="replace lone surrogates, NUL and control characters in stored text by U+FFFD",
    )
    repair.add_argument("--dry-run", action="store_true", help="only count them")
    repair.set_defaults(func=cmd_repair_text)
    sub.add_parser(
        "recount-figures", help="rebuild the governance figures from the case record"
    ).set_defaults(func=cmd_recount_figures)
    court = sub.add_parser("court", help="the court handoff")
    court_sub = court.add_subparsers(dest="court_command", required=True)
    export = court_sub.add_parser(
        "export", help="write the package that would be sent to the court, for inspection"
    )
    export.add_argument("case_number")
    export.add_argument("--format", choices=["json", "ecf"], default="json")
    export.add_argument("--out", help="write to this file instead of standard output")
    export.set_defaults(func=cmd_court_export)
    revoke = court_sub.add_parser(
        "revoke-links", help="make a filing's evidence links stop working now (410 to the court)"
    )
    revoke.add_argument("filing_id")
    revoke.set_defaults(func=cmd_court_revoke_links)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    args = build_parser().parse_args(argv)
    if args.command in ("serve", "demo"):
        _addresses_from_ports(args)
    if args.command == "demo":
        # The demo partner's endpoint is the local receiver (plain http, a local address),
        # seeded at the port the receiver listens on.
        os.environ["DEMO_RECEIVER_PORT"] = str(args.receiver_port)
        os.environ.setdefault("WEBHOOK_ALLOW_HTTP", "1")
    try:
        settings = load_settings()
    except ValueError as bad:  # a malformed setting (BadSecret names which)
        print(f"mediation: cannot start: {bad}", file=sys.stderr)
        return 2
    result: int = args.func(settings, args)
    return result


def _addresses_from_ports(args: argparse.Namespace) -> None:
    """`--port` is the default BASE_URL's port, `--desk-port` the court desk's.

    Set in the environment (where an explicit BASE_URL / COURT_DESK_URL wins, as set) because
    uvicorn's workers build the app from the environment: every link the platform writes
    (invitations, SMS, the QR code and verify URL printed into signed PDFs) then names the
    port it actually serves on.
    """
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    os.environ.setdefault("BASE_URL", f"http://{host}:{args.port}")
    desk_port = getattr(args, "desk_port", None)
    if desk_port is not None:
        os.environ["COURT_DESK_URL"] = f"http://{host}:{desk_port}"


if __name__ == "__main__":
    sys.exit(main())
