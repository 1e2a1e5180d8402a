"""The agreement's labels: one catalogue each, read by the agreement pages, the verification
page and the signed PDF alike."""

from __future__ import annotations

from cases.agreements.models import AgreementStatus, SignatureMethod, SignerRole
from courtwire.words import SIDE_LABELS
from mediation import agreement_pdf, labels
from mediation.routes import agreements as agreement_routes


def test_each_catalogue_covers_its_codes() -> None:
    assert set(labels.AGREEMENT_STATUS_LABELS) == {s.value for s in AgreementStatus}
    assert set(labels.SIGNER_ROLE_LABELS) == {r.value for r in SignerRole}
    assert set(labels.SIGNATURE_METHOD_LABELS) == {m.value for m in SignatureMethod}


def test_the_sides_say_what_they_say_everywhere() -> None:
    for side, label in SIDE_LABELS.items():
        assert labels.SIGNER_ROLE_LABELS[side] == label


def test_the_page_and_the_pdf_read_the_same_catalogues() -> None:
    context = agreement_routes._labels()
    assert context["role_labels"] is labels.SIGNER_ROLE_LABELS
    assert context["method_labels"] is labels.SIGNATURE_METHOD_LABELS
    assert context["status_labels"] is labels.AGREEMENT_STATUS_LABELS
    assert not hasattr(agreement_pdf, "ROLE_LABELS")
    assert not hasattr(agreement_pdf, "METHOD_LABELS")
