"""Accounts over HTTP: registering, signing in and out, the sign-in limit, CSRF, redirects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import LoginFailure, Role, User
from mediation.app import create_app
from mediation.settings import Settings
from tests.support.factories import (
    STAFF_PASSWORD,
    cheap_password_hashing,
    create_staff,
    csrf_of,
    file_case,
    filing_fields,
    invitation_path,
    register,
    row_counts,
    run,
    sign_in,
)

PASSWORD = "correct horse 1"
MOBILE = "13812345678"


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def post_register(client: TestClient, **fields: str):  # type: ignore[no-untyped-def]
    data = {"identifier": MOBILE, "password": PASSWORD, "display_name": "张三", **fields}
    return client.post(
        "/register",
        data={"csrf_token": csrf_of(client, "/register"), **data},
        follow_redirects=False,
    )


def post_sign_in(client: TestClient, identifier: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/signin",
        data={
            "csrf_token": csrf_of(client, "/signin"),
            "identifier": identifier,
            "password": password,
            **extra,
        },
        follow_redirects=False,
    )


def is_signed_in(client: TestClient) -> bool:
    response = client.get("/cases", follow_redirects=False)
    assert response.status_code in (200, 303)
    return response.status_code == 200


# --- Registration ---


def test_register_creates_a_disputant_and_signs_in(client: TestClient) -> None:
    response = post_register(client, identifier="+86 138-1234-5678", display_name=" 张三 ")
    assert response.status_code == 303
    assert response.headers["location"] == "/file"
    user = run(client, User.get, mobile=MOBILE)
    assert user.role == Role.DISPUTANT
    assert user.display_name == "张三"
    assert user.email is None
    assert user.password_hash != PASSWORD
    assert is_signed_in(client)


def test_register_with_email_stores_it_lowercased(client: TestClient) -> None:
    assert post_register(client, identifier=" Zhang.San@Example.COM ").status_code == 303
    user = run(client, User.get, email="zhang.san@example.com")
    assert user.mobile is None


@pytest.mark.parametrize(
    ("fields", "field", "zh", "en"),
    [
        pytest.param(
            {"identifier": "zhangsan"},
            "identifier",
            "请输入内地手机号或电子邮箱。",
            "Please enter a mainland mobile number or an email address.",
            id="identifier-neither",
        ),
        pytest.param(
            {"identifier": "12812345678"},
            "identifier",
            "请输入内地手机号或电子邮箱。",
            "Please enter a mainland mobile number or an email address.",
            id="identifier-bad-mobile",
        ),
        pytest.param(
            {"identifier": "a@b"},
            "identifier",
            "请输入内地手机号或电子邮箱。",
            "Please enter a mainland mobile number or an email address.",
            id="identifier-bad-email",
        ),
        pytest.param(
            {"password": "short"},
            "password",
            "密码至少需要 8 位。",
            "The password must have at least 8 characters.",
            id="password-short",
        ),
        pytest.param(
            {"display_name": "  "},
            "display_name",
            "此项为必填项。",
            "This field is required.",
            id="name-missing",
        ),
    ],
)
def test_registration_field_errors_are_translated(
    client: TestClient, fields: dict[str, str], field: str, zh: str, en: str
) -> None:
    response = post_register(client, **fields)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error" role="alert">{zh}</p>' in response.text
    assert en not in response.text

    client.cookies.set("lang", "en")
    response = post_register(client, **fields)
    assert response.status_code == 422
    assert f'<p class="error" id="{field}-error" role="alert">{en}</p>' in response.text
    assert zh not in response.text
    assert run(client, User.all().count) == 0
    assert not is_signed_in(client)


def test_registration_errors_keep_values_but_never_the_password(client: TestClient) -> None:
    response = post_register(client, identifier="zhangsan", password="secret-password-9")
    assert response.status_code == 422
    assert 'value="zhangsan"' in response.text
    assert "secret-password-9" not in response.text


def test_all_registration_errors_at_once(client: TestClient) -> None:
    response = post_register(client, identifier="", password="", display_name="")
    assert response.status_code == 422
    for field in ("identifier", "password", "display_name"):
        assert f'id="{field}-error"' in response.text


@pytest.mark.parametrize("again", [MOBILE, "+86 138 1234 5678", "8613812345678"])
def test_duplicate_mobile_is_refused(client: TestClient, again: str) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    response = post_register(client, identifier=again, display_name="冒名")
    assert response.status_code == 422
    assert "该手机号或电子邮箱已注册。" in response.text
    assert run(client, User.all().count) == 1
    assert not is_signed_in(client)


def test_duplicate_email_is_refused_whatever_its_case(client: TestClient) -> None:
    register(client, "zhangsan@example.com", PASSWORD)
    client.cookies.clear()
    client.cookies.set("lang", "en")
    response = post_register(client, identifier="ZhangSan@Example.com")
    assert response.status_code == 422
    assert "An account with this mobile number or email already exists." in response.text
    assert run(client, User.all().count) == 1


# --- Signing in ---


def test_sign_in_success_goes_home(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    response = post_sign_in(client, "+86 138 1234 5678", PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/file"
    assert is_signed_in(client)


def test_staff_sign_in_goes_to_the_case_list(client: TestClient) -> None:
    create_staff(client, "clerk", Role.COURT_CLERK)
    response = post_sign_in(client, "clerk", STAFF_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/cases"


@pytest.mark.parametrize(
    ("identifier", "password"),
    [(MOBILE, "wrong password"), ("13900000000", PASSWORD), ("nobody", PASSWORD), (MOBILE, "")],
)
def test_sign_in_failure(client: TestClient, identifier: str, password: str) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    response = post_sign_in(client, identifier, password)
    assert response.status_code == 401
    assert "账号或密码不正确。" in response.text
    assert not is_signed_in(client)
    assert run(client, LoginFailure.all().count) == 1


def test_inactive_user_cannot_sign_in(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    run(client, User.filter(mobile=MOBILE).update, is_active=False)
    response = post_sign_in(client, MOBILE, PASSWORD)
    assert response.status_code == 401
    assert not is_signed_in(client)


def test_sign_in_is_locked_after_too_many_failures(client: TestClient, settings: Settings) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    for _ in range(settings.max_login_failures):
        assert post_sign_in(client, MOBILE, "wrong password").status_code == 401
    response = post_sign_in(client, MOBILE, PASSWORD)
    assert response.status_code == 429
    assert (
        f"失败次数过多。为保护您的账号安全，请 {settings.login_lockout_minutes} 分钟后再试。"
        in (response.text)
    )
    assert not is_signed_in(client)
    # A locked attempt is not itself counted.
    assert run(client, LoginFailure.all().count) == settings.max_login_failures

    client.cookies.set("lang", "en")
    response = post_sign_in(client, MOBILE, PASSWORD)
    assert response.status_code == 429
    assert (
        "Too many failed attempts. For your safety, please try again in "
        f"{settings.login_lockout_minutes} minutes."
    ) in response.text


def test_one_failure_fewer_than_the_limit_still_lets_the_right_password_in(
    client: TestClient, settings: Settings
) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    for _ in range(settings.max_login_failures - 1):
        assert post_sign_in(client, MOBILE, "wrong password").status_code == 401
    assert post_sign_in(client, MOBILE, PASSWORD).status_code == 303
    # Success clears the count for this account.
    assert run(client, LoginFailure.all().count) == 0


def test_the_limit_cannot_be_dodged_by_writing_the_mobile_differently(
    client: TestClient, settings: Settings
) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    spellings = ["13812345678", "138 1234 5678", "138-1234-5678", "+8613812345678", "8613812345678"]
    for attempt in range(settings.max_login_failures):
        spelling = spellings[attempt % len(spellings)]
        assert post_sign_in(client, spelling, "wrong password").status_code == 401
    assert post_sign_in(client, "+86 138 1234 5678", PASSWORD).status_code == 429


def test_the_limit_holds_for_emails_whatever_their_case(
    client: TestClient, settings: Settings
) -> None:
    register(client, "zhangsan@example.com", PASSWORD)
    client.cookies.clear()
    for attempt in range(settings.max_login_failures):
        identifier = "ZhangSan@Example.com" if attempt % 2 else "zhangsan@example.com"
        assert post_sign_in(client, identifier, "wrong password").status_code == 401
    assert post_sign_in(client, "zhangsan@example.com", PASSWORD).status_code == 429


def test_lock_on_one_account_does_not_lock_another(client: TestClient, settings: Settings) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    register(client, "13900001111", PASSWORD)
    client.cookies.clear()
    for _ in range(settings.max_login_failures):
        post_sign_in(client, MOBILE, "wrong password")
    assert post_sign_in(client, "13900001111", PASSWORD).status_code == 303


@pytest.fixture
def slowed_client(settings: Settings) -> Iterator[TestClient]:
    """The app with a short, measurable slow-down for an address past its allowance."""
    app = create_app(settings.with_(sign_in_slowdown_seconds=SLOWDOWN), background_jobs=False)
    with TestClient(app) as client:
        yield client


SLOWDOWN = 0.4


def timed_sign_in(client: TestClient, identifier: str, password: str) -> tuple[int, float]:
    token = csrf_of(client, "/signin")
    started = time.monotonic()
    response = client.post(
        "/signin",
        data={"csrf_token": token, "identifier": identifier, "password": password},
        follow_redirects=False,
    )
    return response.status_code, time.monotonic() - started


def test_an_address_past_its_allowance_is_slowed_but_the_right_password_gets_in(
    slowed_client: TestClient, settings: Settings
) -> None:
    """A shared office (one address, a NAT) where someone has failed 20+ times: the next
    person with the right password is let in, only slower; nobody is refused for what
    others behind the same address did."""
    client = slowed_client
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    allowance = settings.max_login_failures * 4
    for n in range(allowance):
        status, elapsed = timed_sign_in(client, f"1390000{n:04d}", "guess 123")
        assert status == 401
        assert elapsed < SLOWDOWN, f"attempt {n + 1} slowed before the allowance was used"
    # Past the allowance: wrong guesses are slowed (and still counted) ...
    status, elapsed = timed_sign_in(client, "13900009999", "guess 123")
    assert (status, elapsed >= SLOWDOWN) == (401, True)
    # ... and the right password, from the same address, gets in after the same wait.
    status, elapsed = timed_sign_in(client, MOBILE, PASSWORD)
    assert status == 303
    assert elapsed >= SLOWDOWN
    assert is_signed_in(client)
    assert run(client, LoginFailure.filter(remote_addr="testclient").count) == allowance + 1


# --- Signing out ---


def test_sign_out_clears_the_session(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    assert is_signed_in(client)
    token = csrf_of(client, "/file")
    response = client.post("/signout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert not is_signed_in(client)
    # The old form token went with the session.
    assert client.post("/signout", data={"csrf_token": token}).status_code == 403


def test_a_copied_session_cookie_stops_working_at_sign_out(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    copied = client.cookies.get("mediation_session")
    assert copied
    other_device = dict(client.cookies)
    token = csrf_of(client, "/file")
    assert client.post("/signout", data={"csrf_token": token}).status_code == 200
    # The cookie taken before signing out (another device, or a stolen copy) is dead too.
    client.cookies.clear()
    client.cookies.update(other_device)
    assert not is_signed_in(client)
    # Signing in again gives a working session.
    sign_in(client, MOBILE, PASSWORD)
    assert is_signed_in(client)


def test_token_from_before_sign_in_is_worthless_after_it(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    planted = csrf_of(client, "/signin")
    sign_in(client, MOBILE, PASSWORD)
    response = client.post("/signout", data={"csrf_token": planted}, follow_redirects=False)
    assert response.status_code == 403
    assert is_signed_in(client)


# --- CSRF on every form ---


def _evidence_dir_files(settings: Settings) -> list[Path]:
    root = settings.evidence_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("token", [None, "", "wrong-token"], ids=["missing", "empty", "wrong"])
@pytest.mark.parametrize(
    "route",
    ["register", "signin", "signout", "file", "evidence", "consent", "refuse"],
)
def test_forms_without_the_right_csrf_token_are_refused(
    client: TestClient, settings: Settings, route: str, token: str | None
) -> None:
    register(client, MOBILE, PASSWORD)
    number = file_case(client)
    invitation = invitation_path(client, number)
    blobs = _evidence_dir_files(settings)

    signed_in_routes = {"signout", "file", "evidence"}
    if route not in signed_in_routes:
        client.cookies.clear()
    page = {
        "register": "/register",
        "signin": "/signin",
        "consent": invitation,
        "refuse": invitation,
    }.get(route, "/file")
    # Load the form first, so the session has a real token that the request does not match.
    csrf_of(client, page)

    path, data, files = {
        "register": (
            "/register",
            {"identifier": "13900001111", "password": PASSWORD, "display_name": "李四"},
            None,
        ),
        "signin": ("/signin", {"identifier": MOBILE, "password": PASSWORD}, None),
        "signout": ("/signout", {}, None),
        "file": ("/file", filing_fields(), [("evidence", ("新.pdf", b"%PDF-1.7\nnew", "x"))]),
        "evidence": (
            f"/cases/{number}/evidence",
            {},
            [("evidence", ("新.pdf", b"%PDF-1.7\nnew", "application/pdf"))],
        ),
        "consent": (
            f"{invitation}/consent",
            {
                "identifier": "13900001111",
                "password": PASSWORD,
                "display_name": "某旅行社",
                "consent_voluntary": "on",
                "consent_service_address": "on",
                "consent_false_mediation": "on",
            },
            None,
        ),
        "refuse": (f"{invitation}/refuse", {"reason": "不同意调解"}, None),
    }[route]
    if token is not None:
        data = {**data, "csrf_token": token}

    before = row_counts(client)
    was_signed_in = is_signed_in(client)
    response = client.post(path, data=data, files=files, follow_redirects=False)
    assert response.status_code == 403
    assert "表单已过期，请返回并刷新页面后重试。" in response.text
    assert row_counts(client) == before
    assert _evidence_dir_files(settings) == blobs
    assert is_signed_in(client) is was_signed_in
    assert run(client, User.filter(mobile="13900001111").exists) is False


def test_a_token_from_another_session_is_refused(client: TestClient) -> None:
    theirs = csrf_of(client, "/register")
    client.cookies.clear()
    csrf_of(client, "/register")  # this session's own token
    response = client.post(
        "/register",
        data={
            "csrf_token": theirs,
            "identifier": MOBILE,
            "password": PASSWORD,
            "display_name": "张三",
        },
    )
    assert response.status_code == 403
    assert run(client, User.all().count) == 0


# --- No open redirects ---

EVIL = ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "evil"]


@pytest.mark.parametrize("target", EVIL)
def test_sign_in_ignores_a_foreign_next(client: TestClient, target: str) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    page = client.get("/signin", params={"next": target})
    assert 'name="next" value=""' in page.text
    response = post_sign_in(client, MOBILE, PASSWORD, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/file"


def test_sign_in_follows_a_same_site_next(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    response = post_sign_in(client, MOBILE, PASSWORD, next="/cases?x=1")
    assert response.headers["location"] == "/cases?x=1"


def test_signed_out_visitor_is_brought_back_after_sign_in(client: TestClient) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    bounced = client.get("/cases", follow_redirects=False)
    assert bounced.headers["location"] == "/signin?next=/cases"
    page = client.get(bounced.headers["location"])
    assert 'name="next" value="/cases"' in page.text
    response = post_sign_in(client, MOBILE, PASSWORD, next="/cases")
    assert response.headers["location"] == "/cases"


@pytest.mark.parametrize("target", EVIL)
def test_register_ignores_a_foreign_next(client: TestClient, target: str) -> None:
    response = post_register(client, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/file"


@pytest.mark.parametrize("target", EVIL)
def test_language_switch_ignores_a_foreign_next(client: TestClient, target: str) -> None:
    response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert response.cookies.get("lang") == "en"


def test_language_switch_sets_the_language(client: TestClient) -> None:
    response = client.get("/lang/en", params={"next": "/register"}, follow_redirects=False)
    assert response.headers["location"] == "/register"
    assert "Create an account" in client.get("/register").text
    client.get("/lang/zh_CN")
    assert "Create an account" not in client.get("/register").text
