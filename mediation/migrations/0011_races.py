"""One content, one evidence item per case: merge the duplicates filed before (same case,
same SHA-256) into the earliest row, pointing what referred to a later one (a confirmation
filing's property proofs, an evidence card shown in a session room) at the one kept, then
enforce it with a unique index. And agreement versions may now be withdrawn."""

import json
from collections.abc import Sequence
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

from cases.agreements.models import AgreementStatus


def _sql(client: Any, query: str) -> str:
    """`?` placeholders as the database wants them (asyncpg numbers them)."""
    if client.capabilities.dialect != "postgres":
        return query
    parts = query.split("?")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _in(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


async def merge_duplicate_evidence(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    rows = await client.execute_query_dict(
        "SELECT id, case_id, sha256 FROM evidence ORDER BY case_id, sha256, id"
    )
    kept: dict[tuple[int, str], int] = {}
    merged: dict[int, int] = {}  # a later duplicate's id -> the earliest row's id
    cases: set[int] = set()
    for row in rows:
        key = (int(row["case_id"]), str(row["sha256"]))
        if key in kept:
            merged[int(row["id"])] = kept[key]
            cases.add(key[0])
        else:
            kept[key] = int(row["id"])
    if not merged:
        return
    for filing in await client.execute_query_dict(
        f"SELECT id, precheck FROM court_filing WHERE case_id IN ({_in(sorted(cases))})"
    ):
        precheck = _json(filing["precheck"]) or {}
        proofs = precheck.get("property_proof_evidence")
        if not proofs or not any(int(p) in merged for p in proofs):
            continue
        precheck["property_proof_evidence"] = sorted({merged.get(int(p), int(p)) for p in proofs})
        await client.execute_query(
            _sql(client, "UPDATE court_filing SET precheck = ? WHERE id = ?"),
            [json.dumps(precheck, ensure_ascii=False), filing["id"]],
        )
    for message in await client.execute_query_dict(
        "SELECT m.id, m.body FROM room_message m JOIN mediation_session s"
        f" ON s.id = m.session_id WHERE s.case_id IN ({_in(sorted(cases))})"
    ):
        body = _json(message["body"]) or {}
        evidence_id = body.get("evidence_id") if isinstance(body, dict) else None
        if isinstance(evidence_id, int) and evidence_id in merged:
            body["evidence_id"] = merged[evidence_id]
            await client.execute_query(
                _sql(client, "UPDATE room_message SET body = ? WHERE id = ?"),
                [json.dumps(body, ensure_ascii=False), message["id"]],
            )
    await client.execute_query(f"DELETE FROM evidence WHERE id IN ({_in(sorted(merged))})")


class Migration(migrations.Migration):
    dependencies = [("models", "0010_realtime")]

    initial = False

    operations = [
        ops.AlterField(
            model_name="AgreementVersion",
            name="status",
            field=fields.CharEnumField(
                default=AgreementStatus.DRAFT,
                description="DRAFT: draft\nSIGNING: signing\nEFFECTIVE: effective\n"
                "SUPERSEDED: superseded\nWITHDRAWN: withdrawn",
                enum_type=AgreementStatus,
                max_length=12,
            ),
        ),
        ops.RunPython(merge_duplicate_evidence, ops.RunPython.noop),
        ops.AddConstraint(
            model_name="Evidence",
            constraint=UniqueConstraint(fields=("case", "sha256"), name=None),
        ),
    ]
