"""Single filings that arrive at about the same time are filed together (a group commit).

A partner's senders post disputes one by one, several at once. Filed alone, each costs about
25 statements in its own transaction; filed together with the others waiting at that
moment, a whole group costs about 30 (`file_together`, as a batch's items are). A request
never waits for company: when no group is being filed, its own is filed at once (a group of
one is filed alone, exactly as before); while one is being filed, the requests that arrive
wait for it to finish, then go together. What cannot be filed together (refused, with
files, a key or reference seen before, an open case of the same dispute, a lost race) is
filed alone by its own request, as a single request always was.

One gathering per process (the web shell keeps it); several processes each gather their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cases.accounts.models import PartnerPlatform
from cases.intake import Upload
from cases.partners.actions import (
    BATCH_FILINGS_AT_ONCE,
    ApiAnswer,
    BatchItem,
    DescribeEvent,
    DescribeInvalid,
    Offered,
    could_be_filed_together,
    do_partner_filing,
    file_together,
)
from cases.settings import Settings

# At most this many filings in one transaction; the rest wait for the next group.
GROUP_AT_MOST = 250

FileAlone = Callable[[], Awaitable[ApiAnswer]]


@dataclass
class _Waiting:
    offered: Offered
    now: datetime
    alone: FileAlone
    answer: asyncio.Future[ApiAnswer]


@dataclass
class FilingGathering:
    at_most: int = GROUP_AT_MOST
    _waiting: list[_Waiting] = field(default_factory=list)
    _filer: asyncio.Task[None] | None = None

    async def file(
        self, settings: Settings, offered: Offered, now: datetime, alone: FileAlone
    ) -> ApiAnswer:
        """The filing's answer: filed with the group it arrived with, or by `alone` when
        the group could not take it (the group is done only when that is done too, so the
        requests arriving meanwhile gather behind it)."""
        waiting = _Waiting(offered, now, alone, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._filer is None:
            self._filer = asyncio.create_task(self._file_waiting(settings))
        # The request may end (its client gone) while its group is filed: the group goes on,
        # and the filing's stored answer is replayed when the partner sends it again.
        return await asyncio.shield(waiting.answer)

    async def _file_waiting(self, settings: Settings) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self.at_most]
                del self._waiting[: self.at_most]
                await _file_group(settings, group)
        finally:
            self._filer = None


async def _file_group(settings: Settings, group: Sequence[_Waiting]) -> None:
    try:
        # The group's time is its latest arrival's: no filing is received before it came.
        now = max(waiting.now for waiting in group)
        answers = await file_together(settings, [waiting.offered for waiting in group], now)
    except Exception as error:  # each request answers for it (a server error) on its own
        for waiting in group:
            waiting.answer.set_exception(error)
        return
    for at, waiting in enumerate(group):
        if at in answers:
            waiting.answer.set_result(answers[at])
    left = [waiting for at, waiting in enumerate(group) if at not in answers]
    gate = asyncio.Semaphore(BATCH_FILINGS_AT_ONCE)

    async def file_alone(waiting: _Waiting) -> None:
        async with gate:
            try:
                waiting.answer.set_result(await waiting.alone())
            except Exception as error:
                waiting.answer.set_exception(error)

    await asyncio.gather(*(file_alone(waiting) for waiting in left))


async def do_gathered_filing(
    gathering: FilingGathering,
    settings: Settings,
    partner: PartnerPlatform,
    idempotency_key: str,
    body: Mapping[str, Any],
    fields: Mapping[str, str],
    uploads: Sequence[Upload],
    now: datetime,
    describe_invalid: DescribeInvalid,
    describe_event: DescribeEvent,
) -> ApiAnswer:
    """A single request's filing: gathered with the others arriving meanwhile when it is
    plainly new, else filed alone at once (refused, or with files)."""

    def alone() -> Awaitable[ApiAnswer]:
        return do_partner_filing(
            settings,
            partner,
            idempotency_key,
            body,
            fields,
            uploads,
            now,
            describe_invalid,
            describe_event,
        )

    item = BatchItem(idempotency_key, body, fields, uploads)
    if not could_be_filed_together(item):
        return await alone()
    return await gathering.file(settings, Offered(partner, item, describe_event), now, alone)
