"""The registry of timeline event kinds: every kind has a label, every kind recorded anywhere in
the tree is registered, and an unregistered kind fails loudly (when recorded, and when a court
package is built)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest

from cases.court.privilege import CaseRecordForCourt, TimelineEntry, filter_for_court
from cases.journal import record_event
from cases.timeline import EVENT_LABELS, EventKind, event_kind

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("cases", "mediation", "seeds", "courtdesk", "courtwire", "realtime")


def test_every_kind_has_one_label() -> None:
    assert set(EVENT_LABELS) == set(EventKind)
    for kind, label in EVENT_LABELS.items():
        assert label.strip(), kind
        assert label[0].isupper(), (kind, label)  # a label is shown on its own, as a sentence


def test_labels_do_not_repeat() -> None:
    # Two kinds with the same words would read as the same event on a timeline.
    assert len(set(EVENT_LABELS.values())) == len(EVENT_LABELS)


@pytest.mark.parametrize("kind", list(EventKind))
def test_a_kind_is_its_stored_string(kind: EventKind) -> None:
    assert event_kind(kind.value) is kind
    assert kind.value == kind.value.lower()
    assert len(kind.value) <= 40  # TimelineEvent.kind


@pytest.mark.parametrize("kind", ["", "Filed", "file", "status-changed", "agreement_withdrawn"])
def test_an_unknown_kind_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="unknown timeline event kind"):
        event_kind(kind)


async def test_recording_an_unknown_kind_fails_before_writing() -> None:
    # No database here: the kind is checked before the row is created.
    with pytest.raises(ValueError, match="unknown timeline event kind"):
        await record_event(cast(Any, None), "evidence_aded", datetime.now(UTC))


def test_the_court_package_refuses_an_unknown_kind() -> None:
    record = CaseRecordForCourt(
        case_number="CNM-2026-T-00001",
        category="tour_contract",
        claim_amount="100.00",
        facts="",
        requested_outcome="",
        parties=(),
        evidence=(),
        timeline=(TimelineEntry("status_chnaged", "2026-03-01T10:00:00+08:00", {}),),
        room_messages=(),
    )
    with pytest.raises(ValueError, match="unknown timeline event kind"):
        filter_for_court(record)


# --- every kind recorded in the tree is registered --------------------------------------------


def _module_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    found: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            found[node.target.id] = node.value
    return found


def _kinds_named(expr: ast.expr, names: dict[str, ast.expr]) -> list[str] | None:
    """The kinds an argument can be (string literals, EventKind members, either branch of a
    conditional, the values of a module-level table indexed); None when it cannot be told."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "EventKind"
    ):
        member = EventKind.__members__.get(expr.attr)
        return [member.value] if member is not None else [f"EventKind.{expr.attr}"]
    if isinstance(expr, ast.IfExp):
        body, orelse = _kinds_named(expr.body, names), _kinds_named(expr.orelse, names)
        return None if body is None or orelse is None else body + orelse
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        table = names.get(expr.value.id)
        if isinstance(table, ast.Dict):
            kinds: list[str] = []
            for value in table.values:
                named = _kinds_named(value, names)
                if named is None:
                    return None
                kinds += named
            return kinds
    return None


def recorded_kinds(root: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Each kind passed to record_event (or event_row, for events recorded together)
    anywhere, with where; and the calls that could not be read (a kind computed some other
    way). The journal's own record_event hands its `kind` on to event_row: not a call site."""
    kinds: dict[str, list[str]] = {}
    unreadable: list[str] = []
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = _module_assignments(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if called not in {"record_event", "event_row"}:
                    continue
                where = f"{path.relative_to(root)}:{node.lineno}"
                argument = node.args[1] if len(node.args) > 1 else None
                for keyword in node.keywords:
                    if keyword.arg == "kind":
                        argument = keyword.value
                forwarded = isinstance(argument, ast.Name) and argument.id == "kind"
                if path.name == "journal.py" and forwarded:
                    continue
                named = _kinds_named(argument, names) if argument is not None else None
                if named is None:
                    unreadable.append(where)
                    continue
                for kind in named:
                    kinds.setdefault(kind, []).append(where)
    return kinds, unreadable


def test_every_recorded_kind_is_registered() -> None:
    kinds, unreadable = recorded_kinds(ROOT)
    assert unreadable == [], "record_event with a kind this test cannot read: use EventKind"
    unregistered = {kind: where for kind, where in kinds.items() if kind not in set(EventKind)}
    assert unregistered == {}
    # The scan sees the tree: the case record's, the shell's and the computed kinds.
    assert {"filed", "status_changed", "agreement_pdf_issued", "performance_disputed"} <= set(kinds)
    assert {"agreement_withdrawn_mediation_ended", "agreement_withdrawn_mediator_replaced"} <= set(
        kinds
    )


def test_every_registered_kind_is_recorded_somewhere() -> None:
    # A kind nobody records any more is a dead label: remove it (or find who lost it).
    kinds, _ = recorded_kinds(ROOT)
    assert set(EventKind) - set(kinds) == set()


def test_the_scan_catches_an_unregistered_kind(tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "a.py").write_text(
        "MOVES = {1: 'performance_marked', 2: 'performance_forgot'}\n"
        "async def f(case, now, move, flag):\n"
        "    await record_event(case, 'filed', now)\n"
        "    await journal.record_event(case, 'evidence_aded', now)\n"
        "    await record_event(case, 'session_ended' if flag else 'session_endd', now)\n"
        "    await record_event(case, MOVES[move], now)\n"
        "    await record_event(case, EventKind.NOT_A_KIND, now)\n"
        "    await record_event(case, kind_of(move), now)\n",
        encoding="utf-8",
    )
    kinds, unreadable = recorded_kinds(tmp_path)
    assert set(kinds) - set(EventKind) == {
        "evidence_aded",
        "session_endd",
        "performance_forgot",
        "EventKind.NOT_A_KIND",
    }
    assert unreadable == ["cases/a.py:8"]
