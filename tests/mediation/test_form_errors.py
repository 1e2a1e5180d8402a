"""Form errors are tied to their fields, on every form that shows field errors: the control
carries aria-invalid="true" and an aria-describedby naming its error (and its hint), every
id it names exists, and every link of an error summary leads to a control on the page. So
a screen reader, arriving on a field, hears what is wrong with it."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html as lxml_html
from starlette.testclient import TestClient

from mediation.settings import Settings
from tests.support.agreements import (
    APPLICANT,
    MEDIATOR,
    ORG_ADMIN,
    PLATFORM_ADMIN,
    AgreementWorld,
    build_agreement_world,
    draft,
)
from tests.support.factories import cheap_password_hashing, csrf_of, register, run, switch_to

CONTROLS = ("input", "select", "textarea", "fieldset", "div")


@pytest.fixture(autouse=True)
def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def world(client: TestClient, settings: Settings) -> AgreementWorld:
    built: AgreementWorld = run(client, build_agreement_world, settings)
    return built


def assert_errors_tied(page: str, at_least: int) -> list[str]:
    """Every field error is named by an invalid control's aria-describedby; returns the
    ids of the errors found. Fails on a dangling reference or summary link."""
    tree = lxml_html.fromstring(page)
    ids = {e.get("id") for e in tree.xpath("//*[@id]")}
    described: dict[str, Any] = {}
    for control in tree.xpath("//*[@aria-describedby]"):
        for ref in control.get("aria-describedby").split():
            assert ref in ids, f"aria-describedby names #{ref}, which is not on the page"
            described.setdefault(ref, []).append(control)
    errors = [
        e
        for e in tree.xpath("//*[contains(concat(' ', @class, ' '), ' error ')]")
        if not e.xpath("ancestor::*[contains(@class, 'error-summary')]")
    ]
    found = []
    for error in errors:
        holder = error if error.get("id") else error.getparent()
        error_id = holder.get("id")
        text = error.text_content().strip()
        assert error_id, f"the error {text!r} has no id a control could name"
        controls = described.get(error_id, [])
        assert controls, f"no control is described by #{error_id} ({text!r})"
        for control in controls:
            assert control.tag in CONTROLS, control.tag
            assert control.get("aria-invalid") == "true", f"#{error_id}: {control.tag} not invalid"
        found.append(error_id)
    for link in tree.xpath("//*[contains(@class, 'error-summary')]//a[starts-with(@href, '#')]"):
        target = link.get("href")[1:]
        assert target in ids, f"the summary's link to #{target} leads nowhere"
    assert len(set(found)) >= at_least, found
    return found


def post(client: TestClient, path: str, form_page: str, data: dict[str, Any]) -> str:
    answer = client.post(
        path, data={"csrf_token": csrf_of(client, form_page), **data}, follow_redirects=False
    )
    assert answer.status_code in (400, 422), (answer.status_code, answer.text[:500])
    return answer.text


def test_the_filing_form_ties_every_error_to_its_field(client: TestClient) -> None:
    register(client)
    page = post(client, "/file", "/file", {"applicant_name": ""})
    found = assert_errors_tied(page, at_least=8)
    # The radio groups and the category list, which had no tie before.
    assert {"domain-error", "category-error", "consent_voluntary-error"} <= set(found)
    tree = lxml_html.fromstring(page)
    name = tree.get_element_by_id("applicant_address")
    assert name.get("aria-describedby").split()[0] == "applicant_address-hint"


def test_registration_ties_its_errors(client: TestClient) -> None:
    page = post(client, "/register", "/register", {"identifier": "not a number", "password": "x"})
    assert_errors_tied(page, at_least=2)


def test_the_agreement_editor_ties_each_term_s_errors(
    client: TestClient, world: AgreementWorld
) -> None:
    switch_to(client, *MEDIATOR)
    bad_term = {**draft()["terms"][0], "due_on": "2020-01-01", "amount": "12.345"}
    fields = draft(facts="", terms=[bad_term])
    data: dict[str, Any] = {k: v for k, v in fields.items() if k != "terms"}
    for name in ("text", "obligor_side", "amount", "manner", "due_on"):
        data[f"term_{name}"] = [str(row.get(name) or "") for row in fields["terms"]]
    editor = f"/cases/{world.number}/agreement/edit"
    page = post(client, f"/cases/{world.number}/agreement/versions", editor, data)
    found = assert_errors_tied(page, at_least=3)
    assert {"terms.0.amount-error", "terms.0.due_on-error"} <= set(found)


def test_a_wrong_signing_password_is_tied_to_the_password_field(
    client: TestClient, world: AgreementWorld, settings: Settings
) -> None:
    switch_to(client, *MEDIATOR)
    editor = f"/cases/{world.number}/agreement/edit"
    fields = draft()
    data: dict[str, Any] = {k: v for k, v in fields.items() if k != "terms"}
    for name in ("text", "obligor_side", "amount", "manner", "due_on"):
        data[f"term_{name}"] = [str(row.get(name) or "") for row in fields["terms"]]
    token = csrf_of(client, editor)
    saved = client.post(
        f"/cases/{world.number}/agreement/versions",
        data={"csrf_token": token, **data},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    agreement = f"/cases/{world.number}/agreement"
    frozen = client.post(
        f"{agreement}/1/freeze",
        data={"csrf_token": csrf_of(client, agreement)},
        follow_redirects=False,
    )
    assert frozen.status_code == 303
    switch_to(client, *APPLICANT)
    sha = lxml_html.fromstring(client.get(f"{agreement}/1").text).xpath(
        "//input[@name='sha256']/@value"
    )[0]
    page = post(
        client,
        f"{agreement}/1/sign",
        f"{agreement}/1",
        {"method": "password", "password": "nope", "sha256": sha},
    )
    tree = lxml_html.fromstring(page)
    password = tree.get_element_by_id("sign-password")
    assert password.get("aria-invalid") == "true"
    assert password.get("aria-describedby") == "sign-error"
    assert "密码不正确" in tree.get_element_by_id("sign-error").text_content()
    code = tree.get_element_by_id("sign-code")
    assert code.get("aria-invalid") is None  # the other way of signing is not at fault


def test_ending_mediation_ties_its_errors(client: TestClient, world: AgreementWorld) -> None:
    switch_to(client, *MEDIATOR)
    end = f"/cases/{world.number}/end"
    page = post(client, end, end, {"withdrawn_by": "nobody"})
    found = assert_errors_tied(page, at_least=2)
    assert "ending-error" in found


def test_the_roster_entry_and_staff_forms_tie_their_errors(
    client: TestClient, world: AgreementWorld
) -> None:
    switch_to(client, *ORG_ADMIN)
    mediator_id = world.users["mediator"].id
    entry = f"/admin/roster/{mediator_id}"
    page = post(client, entry, entry, {"action": "profile", "capacity": "lots"})
    assert "capacity-error" in assert_errors_tied(page, at_least=1)
    switch_to(client, *PLATFORM_ADMIN)
    page = post(client, "/admin/staff", "/admin/staff", {"role": "nonsense"})
    assert "role-error" in assert_errors_tied(page, at_least=1)
