from datetime import UTC, datetime

from cases.accounts.actions import check_password
from cases.accounts.models import Organisation, PartnerPlatform, Role, Track, User
from cases.models import Case, Notice, Party, TimelineEvent
from cases.negotiation.models import MerchantHandler, Negotiation
from cases.negotiation.rules import EnrolmentStatus
from cases.status import Status
from mediation.settings import Settings
from seeds.demo import (
    CASES,
    DEMO_MERCHANT_USCC,
    DEMO_PASSWORD,
    ORGANISATIONS,
    STAFF,
    seed_demo,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def test_demo_seed_covers_every_track_and_role_and_is_idempotent(
    db: None, settings: Settings
) -> None:
    first = await seed_demo(settings, NOW)
    counts = (
        await Organisation.all().count(),
        await User.all().count(),
        await Case.all().count(),
        await Notice.all().count(),
        await TimelineEvent.all().count(),
    )
    second = await seed_demo(settings, NOW)

    assert second == []
    assert counts == (
        await Organisation.all().count(),
        await User.all().count(),
        await Case.all().count(),
        await Notice.all().count(),
        await TimelineEvent.all().count(),
    )
    assert len(first) > 0
    assert {o.track for o in await Organisation.all()} == set(Track)
    assert len(ORGANISATIONS) == await Organisation.all().count()
    assert {u.role for u in await User.all()} == set(Role)
    assert await PartnerPlatform.all().count() == 1
    for username, *_ in STAFF:
        user = await User.get(username=username)
        assert check_password(user.password_hash, DEMO_PASSWORD)


async def test_demo_cases_went_through_the_filing_action(db: None, settings: Settings) -> None:
    await seed_demo(settings, NOW)
    cases = await Case.all().order_by("id")
    assert len(cases) == len(CASES) + 1
    # The last goes to the enrolled demo merchant first (先行协商), with no invitation.
    *invited, merchant_case = cases
    assert merchant_case.status == Status.AWAITING_MERCHANT
    negotiation = await Negotiation.get(case=merchant_case).prefetch_related("merchant")
    assert negotiation.merchant.uscc == DEMO_MERCHANT_USCC
    assert negotiation.merchant.status == EnrolmentStatus.ENROLLED
    handler = await MerchantHandler.get(merchant=negotiation.merchant).prefetch_related("user")
    assert handler.user.username == "merchant"
    assert check_password(handler.user.password_hash, DEMO_PASSWORD)
    for case in invited:
        assert case.status == Status.AWAITING_CONSENT
    for case in cases:
        # Filed through the action: parties, a timeline, notices queued.
        assert await Party.filter(case=case).count() == 2
        kinds = await TimelineEvent.filter(case=case).values_list("kind", flat=True)
        assert kinds[0] == "filed" and "status_changed" in kinds
        assert await Notice.filter(case=case).count() >= 1
