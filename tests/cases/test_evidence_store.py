"""Content-addressed blobs, and sweeping the ones nothing refers to."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cases.actions import do_sweep_unreferenced_evidence
from cases.evidence_store import blob_path, read_blob, store_blob
from cases.models import Case, Evidence, Side
from cases.status import Status

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_a_blob_is_named_by_its_hash_and_stored_once(tmp_path: Path) -> None:
    first = store_blob(tmp_path, b"%PDF-1.4 contract")
    second = store_blob(tmp_path, b"%PDF-1.4 contract")
    assert first == second
    assert read_blob(tmp_path, first) == b"%PDF-1.4 contract"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [first]
    assert blob_path(tmp_path, first).parent.name == first[:2]


def _age(path: Path, days: float) -> None:
    moment = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (moment, moment))


async def test_only_old_unreferenced_blobs_are_swept(db: None, tmp_path: Path) -> None:
    referenced = store_blob(tmp_path, b"referenced")
    orphan_old = store_blob(tmp_path, b"kept for a form never resubmitted")
    orphan_new = store_blob(tmp_path, b"kept for a form being corrected now")
    for digest, days in ((referenced, 3), (orphan_old, 3), (orphan_new, 0.1)):
        _age(blob_path(tmp_path, digest), days)
    case = await Case.create(
        number="CNM-2026-T-09999",
        domain="tourism",
        category="tour_refund",
        status=Status.SUBMITTED,
        claim_amount="1.00",
        facts="x" * 10,
        requested_outcome="x",
        created_at=NOW,
        updated_at=NOW,
    )
    await Evidence.create(
        case=case,
        side=Side.APPLICANT,
        filename="a.pdf",
        media_type="application/pdf",
        size=10,
        sha256=referenced,
        created_at=NOW,
    )

    assert await do_sweep_unreferenced_evidence(tmp_path, NOW, timedelta(days=1)) == 1

    assert blob_path(tmp_path, referenced).exists()
    assert not blob_path(tmp_path, orphan_old).exists()
    assert blob_path(tmp_path, orphan_new).exists()
