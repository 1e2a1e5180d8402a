"""The respondent's invitation over HTTP: read, consent (with or without an account), refuse,
expire. And the expiry job run twice at once ends each case once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer
from starlette.testclient import TestClient

from cases.accounts.models import Role, User
from cases.actions import Filer, do_end_unanswered_invitations
from cases.clock import utcnow
from cases.intake import file_dispute
from cases.models import Case, Invitation, Notice, NoticeChannel, Party, Side, TimelineEvent
from mediation.settings import Settings
from tests.support.concurrency import rendezvous
from tests.support.factories import (
    cheap_password_hashing,
    csrf_of,
    file_case,
    filing_fields,
    invitation_path,
    register,
    row_counts,
    run,
    switch_to,
)

A_ID, A_PASSWORD = "13812345678", "applicant pass 1"
R_ID, R_PASSWORD = "13900001111", "respondent pass 1"
FACTS = filing_fields()["facts"]
CONSENTS = {
    "consent_voluntary": "on",
    "consent_service_address": "on",
    "consent_false_mediation": "on",
}
NEW_ACCOUNT = {"display_name": "某旅行社", "identifier": R_ID, "password": R_PASSWORD}

ALREADY_ANSWERED = "该调解邀请已答复。"
EXPIRED = "该调解邀请已过期。"
NOT_VALID = "邀请链接无效。"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def filed(client: TestClient) -> tuple[str, str]:
    """A case filed by the applicant; the client is left signed out. (number, invitation path)"""
    register(client, A_ID, A_PASSWORD)
    number = file_case(client)
    client.cookies.clear()
    return number, invitation_path(client, number)


def answer(client: TestClient, path: str, how: str, **data: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"{path}/{how}",
        # From the sign-in page: an answered invitation's page has no form to take it from.
        data={"csrf_token": csrf_of(client, "/signin"), **data},
        follow_redirects=False,
    )


def status_of(client: TestClient, number: str) -> str:
    return str(run(client, Case.get, number=number).status)


def status_events(client: TestClient, number: str) -> list[TimelineEvent]:
    events: list[TimelineEvent] = run(
        client,
        TimelineEvent.filter(case__number=number, kind="status_changed").order_by("at", "id").all,
    )
    return events


def applicant_notices(client: TestClient, number: str) -> list[tuple[str, str, str]]:
    notices = run(
        client,
        Notice.filter(case__number=number, recipient__in=["zhangsan@example.com", A_ID])
        .order_by("id")
        .all,
    )
    return [(str(n.channel), n.recipient, n.subject) for n in notices]


# --- Reading ---


def test_invitation_shows_the_case_without_the_applicants_identity(client: TestClient) -> None:
    number, path = filed(client)
    page = client.get(path)
    assert page.status_code == 200
    assert number in page.text
    assert FACTS in page.text
    assert "退还全部团费3680元。" in page.text
    assert "人民币3,680.00元" in page.text
    assert "张*" in page.text  # the applicant's name, masked
    assert "张三" not in page.text
    assert "13812345678" not in page.text
    assert "310105" not in page.text
    assert "注册账号后即可参加调解。" in page.text
    assert f'action="{path}/consent"' in page.text
    assert f'action="{path}/refuse"' in page.text
    assert f'value="{R_ID}"' in page.text  # the account form suggests the invited number


# --- Consenting ---


def test_consent_without_account_creates_links_and_signs_in(client: TestClient) -> None:
    number, path = filed(client)
    response = answer(client, path, "consent", **NEW_ACCOUNT, **CONSENTS)
    assert response.status_code == 303
    assert response.headers["location"] == f"/cases/{number}"

    user = run(client, User.get, mobile=R_ID)
    assert user.role == Role.DISPUTANT
    assert user.display_name == "某旅行社"
    respondent = run(client, Party.get, case__number=number, side=Side.RESPONDENT)
    assert respondent.user_id == user.id

    page = client.get(f"/cases/{number}")  # signed in as the respondent
    assert page.status_code == 200
    assert "已受理：被申请人同意调解" in page.text

    events = status_events(client, number)
    assert events[1].data["status"] == ["awaiting_consent", "accepted"]
    assert events[1].actor_id == user.id
    # Accepted cases go straight on to routing; whatever came next, it came from "accepted".
    assert [e.data["status"][0] for e in events[2:]] == [e.data["status"][1] for e in events[1:-1]]
    assert status_of(client, number) == events[-1].data["status"][1]

    invitation = run(client, Invitation.get, case__number=number)
    assert invitation.answer == "consented"
    assert invitation.answered_at is not None

    consented = f"被申请人同意调解 Respondent consented: {number}"
    assert [n for n in applicant_notices(client, number) if n[2] == consented] == [
        ("email", "zhangsan@example.com", consented),
        ("sms", A_ID, consented),
    ]

    # The applicant sees the change on their own page.
    switch_to(client, A_ID, A_PASSWORD)
    assert "已受理：被申请人同意调解" in client.get(f"/cases/{number}").text


def test_consent_when_signed_in_links_that_account(client: TestClient) -> None:
    number, path = filed(client)
    register(client, "service@travel.example.com", R_PASSWORD, "某旅行社")
    users_before = run(client, User.all().count)
    response = answer(client, path, "consent", **CONSENTS)
    assert response.status_code == 303
    assert run(client, User.all().count) == users_before
    user = run(client, User.get, email="service@travel.example.com")
    respondent = run(client, Party.get, case__number=number, side=Side.RESPONDENT)
    assert respondent.user_id == user.id
    assert status_events(client, number)[1].data["status"] == ["awaiting_consent", "accepted"]


@pytest.mark.parametrize("missing", sorted(CONSENTS))
def test_consent_needs_every_statement_confirmed(client: TestClient, missing: str) -> None:
    number, path = filed(client)
    before = row_counts(client)
    data = {**NEW_ACCOUNT, **{k: v for k, v in CONSENTS.items() if k != missing}}
    response = answer(client, path, "consent", **data)
    assert response.status_code == 422
    assert f'<p class="error" id="{missing}-error" role="alert">请阅读并勾选确认此项。</p>' in (
        response.text
    )
    assert row_counts(client) == before
    assert status_of(client, number) == "awaiting_consent"


def test_consent_with_a_bad_new_account_changes_nothing(client: TestClient) -> None:
    number, path = filed(client)
    before = row_counts(client)
    response = answer(client, path, "consent", **{**NEW_ACCOUNT, "password": "short"}, **CONSENTS)
    assert response.status_code == 422
    assert "密码至少需要 8 位。" in response.text
    assert row_counts(client) == before
    assert status_of(client, number) == "awaiting_consent"


# --- Refusing ---


def test_refusal_needs_a_reason(client: TestClient) -> None:
    number, path = filed(client)
    before = row_counts(client)
    for reason in ("", "   "):
        response = answer(client, path, "refuse", reason=reason)
        assert response.status_code == 422
        assert (
            '<p class="error" id="reason-error" role="alert">请简要说明不同意调解的理由。</p>'
            in response.text
        )
    response = answer(client, path, "refuse", reason="理" * 1001)
    assert response.status_code == 422
    assert '<p class="error" id="reason-error" role="alert">' in response.text
    assert row_counts(client) == before
    assert status_of(client, number) == "awaiting_consent"
    assert run(client, Invitation.get, case__number=number).answered_at is None


def test_refusal_closes_the_case_with_the_reason(client: TestClient) -> None:
    number, path = filed(client)
    reason = "我方已于10月全额退款，无需调解。"
    response = answer(client, path, "refuse", reason=f"  {reason} ")
    assert response.status_code == 200
    assert "您已拒绝调解" in response.text
    assert number in response.text

    case = run(client, Case.get, number=number)
    assert case.status == "refused"
    assert case.closed_reason == reason
    last = status_events(client, number)[-1]
    assert last.data == {"status": ["awaiting_consent", "refused"], "reason": reason}
    assert last.actor_label == "respondent"
    assert last.actor_id is None
    assert run(client, Invitation.get, case__number=number).answer == "refused"
    # Refusing needs no account.
    assert run(client, User.filter(mobile=R_ID).exists) is False

    notices = applicant_notices(client, number)
    assert [n[:2] for n in notices] == [("email", "zhangsan@example.com"), ("sms", A_ID)]
    bodies = run(client, Notice.filter(case__number=number, recipient=A_ID).values_list, "body")
    assert reason in bodies[0][0]

    switch_to(client, A_ID, A_PASSWORD)
    page = client.get(f"/cases/{number}").text
    assert "已终结：被申请人拒绝调解" in page
    timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
    assert f'<span class="detail">理由：{reason}</span>' in timeline


# --- Answering twice, tampering ---


@pytest.mark.parametrize(
    ("first", "second"),
    [("consent", "consent"), ("consent", "refuse"), ("refuse", "consent"), ("refuse", "refuse")],
)
def test_answering_twice_is_a_conflict(client: TestClient, first: str, second: str) -> None:
    number, path = filed(client)
    data = {"consent": {**NEW_ACCOUNT, **CONSENTS}, "refuse": {"reason": "不愿调解"}}
    assert answer(client, path, first, **data[first]).status_code in (200, 303)
    status = status_of(client, number)
    client.cookies.clear()
    before = row_counts(client)

    second_data = {**data[second]}
    if second == "consent":
        second_data["identifier"] = "13700003333"  # a different person tries to consent
    response = answer(client, path, second, **second_data)
    assert response.status_code == 409
    assert ALREADY_ANSWERED in response.text
    assert row_counts(client) == before
    assert status_of(client, number) == status
    # The page now says so instead of offering the forms.
    page = client.get(path)
    assert ALREADY_ANSWERED in page.text
    assert f'action="{path}/consent"' not in page.text


def test_the_same_respondent_consenting_twice_is_a_conflict(client: TestClient) -> None:
    _, path = filed(client)
    assert answer(client, path, "consent", **NEW_ACCOUNT, **CONSENTS).status_code == 303
    before = row_counts(client)
    response = answer(client, path, "consent", **CONSENTS)  # still signed in
    assert response.status_code == 409
    assert ALREADY_ANSWERED in response.text
    assert row_counts(client) == before


def _tampered(path: str) -> list[str]:
    token = path.rsplit("/", 1)[1]
    # Change a character inside the signature: the last base64 character carries padding
    # bits too, so changing only it can decode to the same bytes (a valid signature).
    i = len(token) - 5
    flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
    return [
        flipped,
        token[:-3],
        token.split(".")[0],
        "nonsense",
        "W10.bm90LXNpZ25lZA",
    ]


def test_a_tampered_token_gives_404(client: TestClient) -> None:
    number, path = filed(client)
    csrf = csrf_of(client, path)
    for token in _tampered(path):
        for method, suffix, data in [
            ("GET", "", None),
            ("POST", "/consent", {"csrf_token": csrf, **NEW_ACCOUNT, **CONSENTS}),
            ("POST", "/refuse", {"csrf_token": csrf, "reason": "不愿调解"}),
        ]:
            response = client.request(method, f"/invitations/{token}{suffix}", data=data)
            assert response.status_code == 404, (token, suffix)
            assert NOT_VALID in response.text
            assert FACTS not in response.text
    assert status_of(client, number) == "awaiting_consent"
    assert run(client, User.filter(mobile=R_ID).exists) is False


def test_a_signed_token_with_the_wrong_nonce_gives_404(
    client: TestClient, settings: Settings
) -> None:
    number, _ = filed(client)
    invitation = run(client, Invitation.get, case__number=number)
    forged = URLSafeSerializer(settings.secret_key, salt="respondent-invitation").dumps(
        [invitation.id, "0" * 32]
    )
    response = client.get(f"/invitations/{forged}")
    assert response.status_code == 404
    assert NOT_VALID in response.text
    other_key = URLSafeSerializer("another-secret", salt="respondent-invitation").dumps(
        [invitation.id, invitation.nonce]
    )
    assert client.get(f"/invitations/{other_key}").status_code == 404


# --- Expiry ---


def test_unanswered_invitation_ends_the_case(client: TestClient, settings: Settings) -> None:
    number, path = filed(client)
    invitation = run(client, Invitation.get, case__number=number)
    # Not yet due: nothing happens.
    assert (
        run(client, do_end_unanswered_invitations, invitation.expires_at - timedelta(seconds=1))
        == []
    )
    assert status_of(client, number) == "awaiting_consent"

    later = invitation.expires_at + timedelta(minutes=1)
    assert run(client, do_end_unanswered_invitations, later) == [number]
    case = run(client, Case.get, number=number)
    assert case.status == "no_response"
    assert case.closed_reason == "respondent_no_response"
    last = status_events(client, number)[-1]
    assert last.data["status"] == ["awaiting_consent", "no_response"]
    assert last.actor_label == "system"
    assert [n[:2] for n in applicant_notices(client, number)] == [
        ("email", "zhangsan@example.com"),
        ("sms", A_ID),
    ]
    assert run(client, Invitation.get, id=invitation.id).answer == "expired"

    page = client.get(path)
    assert page.status_code == 200
    assert EXPIRED in page.text
    assert ALREADY_ANSWERED not in page.text
    assert f'action="{path}/consent"' not in page.text

    before = row_counts(client)
    response = answer(client, path, "consent", **NEW_ACCOUNT, **CONSENTS)
    assert response.status_code == 409
    assert EXPIRED in response.text
    response = answer(client, path, "refuse", reason="太晚了")
    assert response.status_code == 409
    assert EXPIRED in response.text
    assert row_counts(client) == before
    assert status_of(client, number) == "no_response"

    # Running the job again changes nothing.
    assert run(client, do_end_unanswered_invitations, later + timedelta(days=1)) == []
    assert len(status_events(client, number)) == 2

    switch_to(client, A_ID, A_PASSWORD)
    page = client.get(f"/cases/{number}").text
    assert "已终结：被申请人逾期未答复" in page
    assert "被申请人逾期未答复。" in page


def test_an_invitation_past_its_time_is_refused_before_the_job_runs(client: TestClient) -> None:
    number, path = filed(client)
    run(
        client,
        Invitation.filter(case__number=number).update,
        expires_at=utcnow() - timedelta(minutes=1),
    )
    page = client.get(path)
    assert EXPIRED in page.text
    assert f'action="{path}/consent"' not in page.text
    before = row_counts(client)
    response = answer(client, path, "consent", **NEW_ACCOUNT, **CONSENTS)
    assert response.status_code == 409
    assert EXPIRED in response.text
    assert row_counts(client) == before
    assert status_of(client, number) == "awaiting_consent"


def test_a_case_answered_in_time_is_left_alone_by_the_job(client: TestClient) -> None:
    number, path = filed(client)
    assert answer(client, path, "consent", **NEW_ACCOUNT, **CONSENTS).status_code == 303
    status, before = status_of(client, number), row_counts(client)
    later = utcnow() + timedelta(days=365)
    assert run(client, do_end_unanswered_invitations, later) == []
    assert status_of(client, number) == status
    assert row_counts(client) == before


# --- The job, run twice at once ---


async def test_ending_unanswered_invitations_concurrently_ends_each_case_once(
    db: None, settings: Settings
) -> None:
    now = utcnow()
    numbers = []
    for respondent_mobile in ("13900001111", "13900002222", "13900003333"):
        case = await file_dispute(
            settings, filing_fields(respondent_mobile=respondent_mobile), [], Filer(), now
        )
        numbers.append(case.number)

    later = now + timedelta(days=settings.respondent_reply_days, minutes=1)
    # Proves the invitation's claim on PostgreSQL only (SQLite runs one transaction at a time
    # per process): both runs are held inside the first case's transaction after the claim
    # (`end_unanswered`), so without the claim both end that case, every time.
    with rendezvous("end_unanswered"):
        first, second = await asyncio.gather(
            do_end_unanswered_invitations(later), do_end_unanswered_invitations(later)
        )
    assert sorted(first + second) == sorted(numbers)

    for number in numbers:
        case = await Case.get(number=number)
        assert case.status == "no_response"
        ended = await TimelineEvent.filter(case=case, kind="status_changed").values_list(
            "data", flat=True
        )
        assert [e["status"] for e in ended] == [  # type: ignore[index]
            ["submitted", "awaiting_consent"],
            ["awaiting_consent", "no_response"],
        ]
        told = await Notice.filter(case=case, subject__startswith="调解未能开始").count()
        assert told == 2  # e-mail and SMS to the applicant, once each
        channels = await Notice.filter(case=case, subject__startswith="调解未能开始").values_list(
            "channel", flat=True
        )
        assert sorted(channels) == sorted([NoticeChannel.EMAIL, NoticeChannel.SMS])
