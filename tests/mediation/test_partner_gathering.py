"""Single partner requests that arrive while others are being filed are filed together
(cases.partners.gathering): one transaction for the group, each case reading exactly as one
filed alone, each answer in its own reader's words, and whatever cannot go together (a key
sent twice, a refusal, a repeat of an open case) answered as a single request always was."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.testclient import TestClient

from cases.models import Case
from tests.mediation.test_partner_batch_together import (
    SINGLE,
    auth,
    create_partner,
    dispute,
    record_of,
    statements,
)
from tests.support.concurrency import rendezvous


async def _post_all(
    client: TestClient, first: tuple[str, dict[str, Any]], rest: list[tuple[str, dict[str, Any]]]
) -> list[httpx.Response]:
    """The first request goes alone and is held where it claimed its key; the rest arrive
    meanwhile, all at once, and wait for it: they form the next group."""
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        leader = asyncio.create_task(http.post(SINGLE, json=first[1], headers=first[0]))
        await asyncio.sleep(0.1)  # the leader is inside, held at its pause point
        others = [
            asyncio.create_task(http.post(SINGLE, json=body, headers=headers))
            for headers, body in rest
        ]
        return [await leader, *[await other for other in others]]


def _headers(key: str, idempotency_key: str, **extra: str) -> Any:
    return auth(key, **{"Idempotency-Key": idempotency_key, **extra})


def test_single_requests_arriving_together_are_filed_together(client: TestClient) -> None:
    _, key = create_partner(client)
    with statements() as alone:
        one = client.post(SINGLE, json=dispute(99), headers=_headers(key, "k-99"))
    assert one.status_code == 201, one.text
    first = (_headers(key, "k-0"), dispute(100))
    rest = [(_headers(key, f"k-{n}"), dispute(n)) for n in range(1, 9)]

    with rendezvous("partner_filing", parties=99, wait=0.5), statements() as seen:
        answers = client.portal.call(_post_all, client, first, rest)

    assert [a.status_code for a in answers] == [201] * 9, [a.text for a in answers]
    numbers = [a.json()["case_number"] for a in answers]
    assert len(set(numbers)) == 9
    # Alone, each costs what the first filing did; the leader alone and the eight that
    # waited for it, together, cost about three times that in all, not nine.
    assert len(seen) < 4 * len(alone), (len(seen), len(alone))

    async def count() -> int:
        return await Case.all().count()

    assert client.portal.call(count) == 10
    # A case of the group holds exactly what the leader's (filed alone) holds.
    assert client.portal.call(record_of, numbers[3]) == client.portal.call(record_of, numbers[0])
    # Each request is answered by its own key when sent again.
    again = client.post(SINGLE, json=dispute(4), headers=_headers(key, "k-4"))
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["case_number"] == numbers[4]


def test_a_group_answers_each_request_as_it_would_be_answered_alone(client: TestClient) -> None:
    """Two partners' requests in one group, one reading in English; a key sent twice at
    once, a refused filing and a repeat of an open dispute among them."""
    _, key = create_partner(client)
    _, other_key = create_partner(client, "另一个平台")
    earlier = client.post(SINGLE, json=dispute(1), headers=_headers(key, "e-1"))
    assert earlier.status_code == 201, earlier.text
    retold = {**dispute(1), "partner_reference": "R-AGAIN"}
    first = (_headers(key, "k-0"), dispute(100))
    rest = [
        (_headers(key, "k-2"), dispute(2)),
        (_headers(other_key, "o-3", **{"Accept-Language": "en"}), dispute(3)),
        (_headers(key, "k-2"), dispute(2)),  # the same key at the same time
        (_headers(key, "k-5"), dispute(5, applicant_mobile="12345")),  # refused
        (_headers(key, "k-again"), retold),  # the same dispute as the earlier case
        (_headers(other_key, "o-6"), dispute(6)),
    ]

    with rendezvous("partner_filing", parties=99, wait=0.5):
        answers = client.portal.call(_post_all, client, first, rest)

    statuses = [a.status_code for a in answers]
    assert statuses == [201, 201, 201, 201, 422, 200, 201], [a.text for a in answers]
    leader, two, three, two_again, refused, retold_answer, six = (a.json() for a in answers)
    assert two_again["case_number"] == two["case_number"]
    # Whichever copy reached the group first was filed; the other is its replay (the order
    # they arrive in depends on their own reads of the partner's key).
    replayed = [answers[i].headers.get("Idempotent-Replayed") for i in (1, 3)]
    assert replayed.count("true") == 1 and replayed.count(None) == 1
    assert "applicant_mobile" in str(refused)
    assert retold_answer["merged_into"] == earlier.json()["case_number"]
    assert len({leader["case_number"], two["case_number"], three["case_number"]}) == 3
    # Each reader's words: the English reader's timeline is in English, the others' in Chinese.
    assert three["timeline"][0]["what"] != two["timeline"][0]["what"]
    assert three["timeline"][0]["what"].isascii()
    assert not two["timeline"][0]["what"].isascii()
    assert six["partner_reference"] == "R-00006"

    async def cases_of_each_partner() -> list[tuple[str | None, str]]:
        return [
            (reference, name)
            for reference, name in await Case.all()
            .order_by("partner_reference")
            .values_list("partner_reference", "partner__name")
        ]

    filed = client.portal.call(cases_of_each_partner)
    assert sorted(filed) == [
        ("R-00001", "某旅游平台"),
        ("R-00002", "某旅游平台"),
        ("R-00003", "另一个平台"),
        ("R-00006", "另一个平台"),
        ("R-00100", "某旅游平台"),
    ]
