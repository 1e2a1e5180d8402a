"""The platform's labels of its own records: the agreement's, read by the agreement pages, the
public verification page and the signed PDF alike, and the staff accounts' roles (English
message ids, translated where shown).

Labels of what crosses to the court are `courtwire.words` (shared with the court desk); the
timeline's event labels are `cases.timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from courtwire.words import SIDE_LABELS
from mediation.i18n import N_

# AgreementVersion.status
AGREEMENT_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "draft": N_("Draft"),
        "signing": N_("Open for signature"),
        "effective": N_("In effect"),
        "superseded": N_("Replaced by a later version"),
        "withdrawn": N_("Withdrawn: the case left mediation"),
    }
)

# SignerRole: the two sides (the same words as everywhere) and the mediator.
SIGNER_ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {**SIDE_LABELS, "mediator": N_("Mediator")}
)

# SignatureMethod: how the signer's identity was confirmed at signing. Shown on its own (the
# PDF's column "How identity was confirmed") and inside "identity confirmed by %(method)s".
SIGNATURE_METHOD_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "password": N_("account password, entered again to sign"),
        "sms_code": N_("one-time code sent by SMS"),
    }
)

# User.role of staff accounts (the staff page)
ACCOUNT_ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "mediator": N_("Mediator"),
        "org_admin": N_("Organisation admin"),
        "court_clerk": N_("Court clerk"),
        "platform_admin": N_("Platform admin"),
    }
)

# A platform filing's status as the parties and the mediator see it: where their filing is
# on its way (the court part of the case page, and the court's decisions on the timeline). The
# desk's own filings have their own words for clerks (courtdesk.messages.FILING_STATUS_FOR_CLERKS):
# a different record, another audience.
FILING_STATUS_FOR_PARTIES: Mapping[str, str] = MappingProxyType(
    {
        "awaiting_parties": N_("Waiting for the other party to apply"),
        "queued": N_("Being sent to the court"),
        "received": N_("Received by the court"),
        "accepted": N_("Under review by the court"),
        "returned": N_("Returned for correction"),
        "docketed": N_("Docketed"),
        "confirmed": N_("Judicial confirmation granted"),
        "rejected": N_("Judicial confirmation refused"),
    }
)
