"""The large-text, high-contrast display (适老化) over HTTP: a switch in the header of every
page; a visitor's choice kept on the device (a cookie), a signed-in person's kept with their
account, so it follows them to another device; a choice made before signing in carried
into the account; CSRF required; and no way to send anyone off-site afterwards."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from cases.accounts.models import User
from tests.support.factories import cheap_password_hashing, csrf_of, register, run, sign_in

MOBILE, PASSWORD = "13812345678", "correct horse 1"
LARGE = re.compile(r'<html lang="[^"]+" class="large-text">')


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def switch(client: TestClient, on: bool, page: str = "/", next_: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/display",
        data={
            "csrf_token": csrf_of(client, page),
            "large_text": "on" if on else "off",
            "next": page if next_ is None else next_,
        },
        follow_redirects=False,
    )


def is_large(client: TestClient, path: str = "/") -> bool:
    return bool(LARGE.search(client.get(path).text))


def toggle_of(html: str) -> str:
    found = re.search(r'<form method="post" action="/display".*?</form>', html, re.S)
    assert found, "no display switch on the page"
    return found.group(0)


@pytest.mark.parametrize("path", ["/", "/signin", "/register", "/file", "/cases"])
def test_every_page_has_the_switch_saying_whether_it_is_on(client: TestClient, path: str) -> None:
    if path in ("/file", "/cases"):
        register(client)
    html = client.get(path).text
    form = toggle_of(html)
    assert 'aria-pressed="false"' in form
    assert 'name="large_text" value="on"' in form
    assert f'name="next" value="{path}"' in form
    assert "大字模式" in form
    assert not LARGE.search(html)


def test_a_visitor_s_choice_is_kept_on_the_device(client: TestClient) -> None:
    answer = switch(client, True, "/signin?next=/file")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=/file"
    assert "display=large" in answer.headers["set-cookie"]
    assert "HttpOnly" in answer.headers["set-cookie"]
    html = client.get("/signin").text
    assert LARGE.search(html)
    assert 'aria-pressed="true"' in toggle_of(html)
    assert 'name="large_text" value="off"' in toggle_of(html)
    switch(client, False)
    assert not is_large(client)


def test_a_signed_in_choice_is_kept_with_the_account_and_follows_to_another_device(
    client: TestClient,
) -> None:
    register(client, MOBILE, PASSWORD)
    assert not is_large(client, "/file")
    switch(client, True, "/file")
    assert run(client, User.get, mobile=MOBILE).large_text is True
    assert is_large(client, "/file")
    assert is_large(client, "/")  # a page that reads no user knows it from the session

    # Another device: cookies of its own, none of this one's.
    first_device = dict(client.cookies)
    client.cookies.clear()
    assert not is_large(client)
    sign_in(client, MOBILE, PASSWORD)
    assert is_large(client, "/file")
    assert is_large(client, "/")
    switch(client, False, "/file")
    assert run(client, User.get, mobile=MOBILE).large_text is False
    # Back on the first device (which turned it on there): the account's choice wins.
    client.cookies.clear()
    client.cookies.update(first_device)
    assert not is_large(client, "/file")


def test_large_text_chosen_before_signing_in_is_carried_into_the_account(
    client: TestClient,
) -> None:
    register(client, MOBILE, PASSWORD)
    client.cookies.clear()
    switch(client, True, "/signin")
    sign_in(client, MOBILE, PASSWORD)
    assert is_large(client, "/file")
    assert run(client, User.get, mobile=MOBILE).large_text is True


def test_the_switch_needs_the_form_s_token_and_stays_on_the_site(client: TestClient) -> None:
    refused = client.post("/display", data={"large_text": "on", "next": "/"})
    assert refused.status_code == 403
    assert not is_large(client)
    away = switch(client, True, next_="//evil.example.com/")
    assert away.headers["location"] == "/"
