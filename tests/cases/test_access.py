"""Table tests of cases.access: who sees a case, who handles it, who sees identities in full."""

from __future__ import annotations

import pytest

from cases.access import CaseFacts, Viewer, can_view_case, handles_case, sees_identity_of

APPLICANT, RESPONDENT, STRANGER = 1, 2, 3
MEDIATOR, OTHER_MEDIATOR = 10, 11
ADMIN, OTHER_ADMIN = 20, 21
CLERK, PLATFORM = 30, 40
ORG, OTHER_ORG = 100, 200

CASE = CaseFacts(
    party_user_ids=frozenset({APPLICANT, RESPONDENT}), mediator_id=MEDIATOR, organisation_id=ORG
)
# Just filed: the respondent has not answered, no organisation or mediator yet.
NEW_CASE = CaseFacts(party_user_ids=frozenset({APPLICANT}), mediator_id=None, organisation_id=None)

VIEWERS = {
    "applicant": Viewer(APPLICANT, "disputant"),
    "respondent": Viewer(RESPONDENT, "disputant"),
    "non-party": Viewer(STRANGER, "disputant"),
    "mediator-assigned": Viewer(MEDIATOR, "mediator", ORG),
    "mediator-other": Viewer(OTHER_MEDIATOR, "mediator", ORG),
    "mediator-other-org": Viewer(OTHER_MEDIATOR, "mediator", OTHER_ORG),
    "org-admin-same-org": Viewer(ADMIN, "org_admin", ORG),
    "org-admin-other-org": Viewer(OTHER_ADMIN, "org_admin", OTHER_ORG),
    "org-admin-no-org": Viewer(OTHER_ADMIN, "org_admin", None),
    "court-clerk": Viewer(CLERK, "court_clerk"),
    "platform-admin": Viewer(PLATFORM, "platform_admin"),
    "unknown-role": Viewer(STRANGER, "visitor"),
}

# (viewer, can_view_case, handles_case) for CASE
ON_CASE = [
    ("applicant", True, False),
    ("respondent", True, False),
    ("non-party", False, False),
    ("mediator-assigned", True, True),
    ("mediator-other", False, False),
    ("mediator-other-org", False, False),
    ("org-admin-same-org", True, True),
    ("org-admin-other-org", False, False),
    ("org-admin-no-org", False, False),
    ("court-clerk", False, False),
    ("platform-admin", True, True),
    ("unknown-role", False, False),
]

# The same for NEW_CASE (no organisation, no mediator, respondent not yet linked)
ON_NEW_CASE = [
    ("applicant", True, False),
    ("respondent", False, False),
    ("non-party", False, False),
    ("mediator-assigned", False, False),
    ("mediator-other", False, False),
    ("org-admin-same-org", False, False),
    ("org-admin-other-org", False, False),
    ("org-admin-no-org", False, False),  # None == None must not grant access
    ("court-clerk", False, False),
    ("platform-admin", True, True),
]


def test_every_viewer_is_in_the_table() -> None:
    assert {name for name, _, _ in ON_CASE} == set(VIEWERS)


@pytest.mark.parametrize(("viewer", "can_view", "handles"), ON_CASE)
def test_access_on_a_case_in_mediation(viewer: str, can_view: bool, handles: bool) -> None:
    assert can_view_case(VIEWERS[viewer], CASE) is can_view
    assert handles_case(VIEWERS[viewer], CASE) is handles


@pytest.mark.parametrize(("viewer", "can_view", "handles"), ON_NEW_CASE)
def test_access_on_a_case_without_organisation(viewer: str, can_view: bool, handles: bool) -> None:
    assert can_view_case(VIEWERS[viewer], NEW_CASE) is can_view
    assert handles_case(VIEWERS[viewer], NEW_CASE) is handles


def test_a_staff_member_who_is_also_listed_as_party_sees_only_by_staff_rules() -> None:
    # A court clerk's user id among the parties (e.g. a data mix-up) grants nothing.
    case = CaseFacts(party_user_ids=frozenset({CLERK}), mediator_id=None, organisation_id=None)
    assert can_view_case(VIEWERS["court-clerk"], case) is False


def test_mediator_id_equal_to_a_disputant_id_grants_the_disputant_nothing() -> None:
    case = CaseFacts(
        party_user_ids=frozenset({APPLICANT}), mediator_id=STRANGER, organisation_id=ORG
    )
    assert can_view_case(VIEWERS["non-party"], case) is False
    assert handles_case(VIEWERS["non-party"], case) is False


# (viewer, sees applicant in full, sees respondent in full, sees an unlinked party in full)
IDENTITY = [
    ("applicant", True, False, False),
    ("respondent", False, True, False),
    ("non-party", False, False, False),
    ("mediator-assigned", True, True, True),
    ("mediator-other", False, False, False),
    ("mediator-other-org", False, False, False),
    ("org-admin-same-org", True, True, True),
    ("org-admin-other-org", False, False, False),
    ("org-admin-no-org", False, False, False),
    ("court-clerk", False, False, False),
    ("platform-admin", True, True, True),
    ("unknown-role", False, False, False),
]


@pytest.mark.parametrize(("viewer", "applicant", "respondent", "unlinked"), IDENTITY)
def test_sees_identity_of(viewer: str, applicant: bool, respondent: bool, unlinked: bool) -> None:
    who = VIEWERS[viewer]
    assert sees_identity_of(who, APPLICANT, CASE) is applicant
    assert sees_identity_of(who, RESPONDENT, CASE) is respondent
    assert sees_identity_of(who, None, CASE) is unlinked


def test_identity_table_covers_every_viewer() -> None:
    assert {row[0] for row in IDENTITY} == set(VIEWERS)


def test_the_holder_sees_their_own_identity_even_on_a_case_they_cannot_otherwise_handle() -> None:
    assert sees_identity_of(VIEWERS["applicant"], APPLICANT, NEW_CASE) is True
    assert sees_identity_of(VIEWERS["applicant"], None, NEW_CASE) is False
    assert sees_identity_of(VIEWERS["org-admin-no-org"], None, NEW_CASE) is False
    assert sees_identity_of(VIEWERS["platform-admin"], None, NEW_CASE) is True
