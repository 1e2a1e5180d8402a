"""The labels of what crosses the wire: one catalogue each, covering every code, read by both
the platform and the court desk; the finding sentences kept per audience cover the same codes."""

from __future__ import annotations

import re
from pathlib import Path

from cases.court import precheck
from cases.models import FilingKind, PartyKind, Side
from cases.timeline import EVENT_LABELS
from courtdesk import messages as desk_messages
from courtdesk import web as desk_web
from courtwire import words
from mediation import court_view

ROOT = Path(__file__).resolve().parents[2]


def test_each_catalogue_covers_its_codes() -> None:
    assert set(words.FILING_KIND_LABELS) == {k.value for k in FilingKind}
    assert set(words.PARTY_KIND_LABELS) == {k.value for k in PartyKind}
    assert set(words.SIDE_LABELS) == {s.value for s in Side}
    assert set(words.SIDE_WORDS) == set(precheck.REQUIRED_SIGNERS)
    assert set(words.GROUND_LABELS) == {
        precheck.ART_354,
        precheck.ART_355,
        precheck.ART_358,
        precheck.ART_21,
        precheck.CPL_124,
    }


def test_both_sides_read_the_same_catalogues() -> None:
    for environment in desk_web.ENVIRONMENTS.values():
        assert environment.globals["kind_labels"] is words.FILING_KIND_LABELS
        assert environment.globals["party_kind_labels"] is words.PARTY_KIND_LABELS
        assert environment.globals["side_labels"] is words.SIDE_LABELS
        assert environment.globals["timeline_labels"] is EVENT_LABELS
    assert court_view.court_labels()["filing_kind_labels"] is words.FILING_KIND_LABELS


def _finding_codes() -> set[str]:
    source = (ROOT / "cases" / "court" / "precheck.py").read_text(encoding="utf-8")
    return set(re.findall(r'Finding\(\s*"([a-z_]+)"', source))


def test_the_finding_sentences_of_each_audience_cover_every_code() -> None:
    codes = _finding_codes()
    assert "signature_missing" in codes  # the scan reads the pre-check
    assert set(court_view.FINDINGS_FOR_PARTIES) == codes
    assert set(desk_messages.FINDINGS_FOR_CLERKS) == codes


def test_a_finding_names_the_same_parameters_for_each_audience() -> None:
    def named(sentence: str) -> set[str]:
        return set(re.findall(r"%\((\w+)\)s", sentence))

    for code, sentence in desk_messages.FINDINGS_FOR_CLERKS.items():
        # The clerk's sentence may say less, never name a parameter the party's does not get.
        assert named(sentence) <= named(court_view.FINDINGS_FOR_PARTIES[code]), code
