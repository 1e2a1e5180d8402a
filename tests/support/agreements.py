"""A case in mediation ready for an agreement: its organisation, mediator, parties with
accounts, and a few bystanders who must not see it. Call inside a `db` test or via run()."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mediation.settings import Settings
from tests.support.factories import STAFF_PASSWORD, party_ids

APPLICANT = ("13812345678", "applicant pass 1")
RESPONDENT = ("13900001111", "respondent pass 1")
OUTSIDER = ("13700002222", "outsider pass 1")
MEDIATOR = ("agr_mediator", STAFF_PASSWORD)
MEDIATOR_MOBILE = "13600003333"
OTHER_MEDIATOR = ("agr_other_mediator", STAFF_PASSWORD)
ORG_ADMIN = ("agr_org_admin", STAFF_PASSWORD)
OTHER_ORG_ADMIN = ("agr_other_admin", STAFF_PASSWORD)
PLATFORM_ADMIN = ("agr_platform_admin", STAFF_PASSWORD)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class AgreementWorld:
    number: str
    case_id: int
    organisation_id: int
    users: dict[str, Any]  # who -> User


def due_in(days: int) -> str:
    return (datetime.now(UTC).astimezone(SHANGHAI).date() + timedelta(days=days)).isoformat()


def draft(**overrides: Any) -> dict[str, Any]:
    """The editor's fields as the action takes them."""
    fields: dict[str, Any] = {
        "facts": "申请人报名参加云南六日游，被申请人在出发前三天单方取消行程，未退还团费。",
        "disputed_matters": "团费3680元是否应当全额退还。",
        "responsibilities": "被申请人单方取消行程，应当承担退款责任；申请人无过错。",
        "other": "双方就本纠纷再无其他争议。",
        "terms": [
            {
                "text": "被申请人向申请人退还团费",
                "obligor_side": "respondent",
                "amount": "3680.00",
                "manner": "银行转账",
                "due_on": due_in(14),
            },
            {
                "text": "申请人收到退款后撤回对被申请人的投诉",
                "obligor_side": "applicant",
                "amount": "",
                "manner": "书面",
                "due_on": due_in(21),
            },
        ],
    }
    fields.update(overrides)
    return fields


async def build_agreement_world(settings: Settings, *, track: str = "peoples") -> AgreementWorld:
    from cases.accounts.actions import do_create_staff, do_register_disputant
    from cases.accounts.models import Role, User
    from cases.models import Case
    from cases.status import Status
    from tests.support.factories import file_and_consent, new_mediator, new_organisation

    now = datetime.now(UTC)
    org = await new_organisation("AGRORG", track=track)
    other_org = await new_organisation("AGROTHER", track=track)
    mediator = await new_mediator(
        MEDIATOR[0], org.id, mobile=MEDIATOR_MOBILE, display_name="王调解", specialties=[]
    )
    other_mediator = await new_mediator(OTHER_MEDIATOR[0], org.id)
    admins = {
        "org_admin": await do_create_staff(
            username=ORG_ADMIN[0],
            password=ORG_ADMIN[1],
            role=Role.ORG_ADMIN,
            display_name="组织管理员",
            organisation_id=org.id,
        ),
        "other_org_admin": await do_create_staff(
            username=OTHER_ORG_ADMIN[0],
            password=OTHER_ORG_ADMIN[1],
            role=Role.ORG_ADMIN,
            display_name="别的组织管理员",
            organisation_id=other_org.id,
        ),
        "platform_admin": await do_create_staff(
            username=PLATFORM_ADMIN[0],
            password=PLATFORM_ADMIN[1],
            role=Role.PLATFORM_ADMIN,
            display_name="平台管理员",
        ),
    }
    applicant = await do_register_disputant(
        identifier=APPLICANT[0], password=APPLICANT[1], display_name="张三"
    )
    respondent = await do_register_disputant(
        identifier=RESPONDENT[0], password=RESPONDENT[1], display_name="某旅行社"
    )
    outsider = await do_register_disputant(
        identifier=OUTSIDER[0], password=OUTSIDER[1], display_name="李四"
    )
    case = await file_and_consent(
        settings,
        now,
        filer_user_id=applicant.id,
        respondent_user_id=respondent.id,
        **party_ids(7),
    )
    # Straight to mediation: how the mediator got here is the routing tests' business.
    await Case.filter(id=case.id).update(
        status=Status.IN_MEDIATION,
        mediator_id=mediator.id,
        organisation_id=org.id,
        mediator_accepted_at=now,
    )
    users = {
        "mediator": mediator,
        "other_mediator": other_mediator,
        "applicant": applicant,
        "respondent": respondent,
        "outsider": outsider,
        **admins,
    }
    users = {who: await User.get(id=user.id) for who, user in users.items()}
    return AgreementWorld(case.number, case.id, org.id, users)


@asynccontextmanager
async def inserts_held(
    database_url: str, table: str
) -> AsyncIterator[Callable[[int], Awaitable[None]]]:
    """Hold back inserts into `table` (PostgreSQL: a table lock in another connection) until
    the block ends; inside it, `await waiting(n)` returns once n transactions are blocked.
    So two actions are truly inside their transactions at the same moment. On SQLite one
    process has one connection, whose transactions run one at a time: nothing to hold."""
    from tests.support.databases import is_postgres

    if not is_postgres(database_url):

        async def no_wait(count: int) -> None:
            await asyncio.sleep(0.05)

        yield no_wait
        return
    import asyncpg

    dsn = database_url.replace("postgres://", "postgresql://", 1)
    holder = await asyncpg.connect(dsn)
    # Watched from a connection of its own: inside a transaction, pg_stat_activity is a
    # snapshot that does not change.
    watcher = await asyncpg.connect(dsn)
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")

        async def waiting(count: int) -> None:
            async with asyncio.timeout(10):
                while True:
                    blocked = await watcher.fetchval(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    if blocked >= count:
                        return
                    await asyncio.sleep(0.02)

        try:
            yield waiting
        finally:
            await transaction.commit()
    finally:
        await holder.close()
        await watcher.close()
