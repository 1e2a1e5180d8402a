"""Demo data for the embedded mode: organisations of the four tracks in Changning, one staff
account per role, a partner platform, and a few realistic cases filed through the actions.

Idempotent: running it again finds what exists and adds only what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from cases.accounts.actions import do_create_partner, do_create_staff, do_register_disputant
from cases.accounts.models import MediatorProfile, Organisation, PartnerPlatform, Role, Track, User
from cases.actions import Filer
from cases.intake import Settings, Upload, file_dispute
from cases.models import Case
from cases.negotiation.actions import do_vouch_enrolment
from cases.negotiation.models import Merchant
from cases.negotiation.rules import DEFAULT_ANSWER_DAYS
from cases.webhooks.actions import do_add_endpoint, do_create_partner_admin, endpoints_of
from cases.webhooks.catalogue import SUBSCRIBABLE
from seeds.history import seed_history

DEMO_PASSWORD = "Demo2026!"
DEMO_PARTNER_KEY = "demo0001.demo-partner-key-for-local-use-only"
DEMO_PARTNER_NAME = "演示电商平台"
# The demo partner's administrator (webhook endpoints, delivery log) and its one endpoint:
# the small receiver `mediation demo` starts (mediation.demo_receiver), which prints each
# verified delivery. The secret is fixed so the receiver knows it; local use only.
DEMO_PARTNER_ADMIN = ("partneradmin", "平台对接 周航")
# `mediation demo --receiver-port N` sets DEMO_RECEIVER_PORT before seeding.
DEMO_RECEIVER_PORT = 8002


def demo_receiver_url() -> str:
    port = int(os.environ.get("DEMO_RECEIVER_PORT", DEMO_RECEIVER_PORT))
    return f"http://127.0.0.1:{port}/webhooks"


DEMO_WEBHOOK_SECRET = "whsec_ZGVtby13ZWJob29rLXNlY3JldC1mb3ItbG9jYWwtdXNlLW9ubHk="


@dataclass(frozen=True)
class DemoOrganisation:
    code: str
    name: str
    name_en: str
    track: Track
    categories: tuple[str, ...]
    address: str


ORGANISATIONS = (
    DemoOrganisation(
        "CN-PMC-TOUR",
        "长宁区旅游纠纷人民调解工作室",
        "Changning Tourism Disputes People's Mediation Office",
        Track.PEOPLES,
        ("tour_contract", "tour_refund", "forced_shopping", "guide_service", "tourism_other"),
        "上海市长宁区愚园路1320号",
    ),
    DemoOrganisation(
        "CN-TQO",
        "长宁区文化和旅游局旅游质量监督管理所",
        "Changning Tourism Quality Supervision Office",
        Track.ADMINISTRATIVE,
        ("tour_contract", "tour_refund", "accommodation", "scenic_spot", "transport_tickets"),
        "上海市长宁区长宁路599号",
    ),
    DemoOrganisation(
        "CN-SAMR",
        "长宁区市场监督管理局消费纠纷调解中心",
        "Changning Market Regulation Consumer Mediation Centre",
        Track.ADMINISTRATIVE,
        (
            "goods_quality",
            "non_delivery_refund",
            "false_advertising",
            "livestream_commerce",
            "food_delivery",
        ),
        "上海市长宁区安化路492号",
    ),
    DemoOrganisation(
        "SHAC-MC",
        "上海仲裁委员会调解中心",
        "Shanghai Arbitration Commission Mediation Centre",
        Track.ARBITRATION,
        ("tour_contract", "platform_service", "travel_booking", "internet_other"),
        "上海市长宁区遵义路100号",
    ),
    DemoOrganisation(
        "SHTA-MC",
        "上海市旅游行业协会旅游纠纷调解委员会",
        "Shanghai Tourism Industry Association Mediation Committee",
        Track.INDUSTRY,
        ("tour_contract", "accommodation", "travel_booking", "guide_service"),
        "上海市长宁区仙霞路350号",
    ),
    DemoOrganisation(
        "CN-CC",
        "长宁区消费者权益保护委员会",
        "Changning Consumer Council",
        Track.INDUSTRY,
        (
            "goods_quality",
            "non_delivery_refund",
            "platform_service",
            "personal_information",
            "food_delivery",
            "livestream_commerce",
        ),
        "上海市长宁区天山路600号",
    ),
)

# (username, role, display name, organisation code). A display name is the person's name
# alone: pages and records say the role beside it where it matters.
STAFF = (
    ("admin", Role.PLATFORM_ADMIN, "周敏", None),
    ("orgadmin", Role.ORG_ADMIN, "陈静", "CN-PMC-TOUR"),
    ("mediator", Role.MEDIATOR, "王建国", "CN-PMC-TOUR"),
    ("mediator2", Role.MEDIATOR, "李晓红", "CN-SAMR"),
    ("clerk", Role.COURT_CLERK, "刘洋", None),
    ("mediator3", Role.MEDIATOR, "赵敏", "CN-PMC-TOUR"),
    ("mediator4", Role.MEDIATOR, "孙立", "CN-TQO"),
    ("mediator5", Role.MEDIATOR, "周华", "CN-CC"),
    ("mediator6", Role.MEDIATOR, "吴敏", "SHAC-MC"),
    ("mediator7", Role.MEDIATOR, "郑强", "SHTA-MC"),
    ("mediator8", Role.MEDIATOR, "冯静", "CN-SAMR"),
    # District governance staff (the justice bureau): the figures dashboard, no personal data.
    ("governance", Role.GOVERNANCE, "钱卫东", None),
)
# Mediators who also mediate in English (foreign tourists).
ENGLISH_SPEAKING = frozenset({"mediator3", "mediator8"})

# (mobile, display name)
DISPUTANTS = (("13800000001", "张伟"), ("13800000002", "王芳"))

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _demo_pdf(name: str) -> bytes:
    """A minimal PDF whose bytes name the document (a comment line), so each differs."""
    return PDF.replace(b"\n", b"\n%" + name.encode("utf-8") + b"\n", 1)


@dataclass(frozen=True)
class DemoCase:
    filer: str
    fields: dict[str, str]
    evidence: tuple[str, ...] = ()


CASES = (
    DemoCase(
        filer="13800000001",
        fields={
            "domain": "tourism",
            "category": "tour_refund",
            "applicant_kind": "natural_person",
            "applicant_name": "张伟",
            "applicant_id_number": "310105198803154211",
            "applicant_mobile": "13800000001",
            "applicant_address": "上海市长宁区江苏路街道华山路1000弄5号",
            "respondent_kind": "merchant",
            "respondent_name": "上海悦途国际旅行社有限公司",
            "respondent_id_number": "91310105MA1FL3XK4E",
            "respondent_mobile": "13900000011",
            "respondent_email": "service@yuetu-travel.example.com",
            "respondent_address": "上海市长宁区延安西路1118号",
            "claim_amount": "6980.00",
            "facts": "2026年9月报名参加“云南昆明大理丽江六日游”，已支付团费6980元。出发前三天旅行社"
            "以“成团人数不足”为由单方取消行程，承诺七个工作日内退款，至今未退。",
            "requested_outcome": "退还全部团费6980元，并按合同约定支付违约金。",
        },
        evidence=("旅游合同.pdf",),
    ),
    DemoCase(
        filer="13800000002",
        fields={
            "domain": "internet",
            "category": "goods_quality",
            "applicant_kind": "natural_person",
            "applicant_name": "王芳",
            "applicant_id_number": "310105199206204422",
            "applicant_mobile": "13800000002",
            "applicant_address": "上海市长宁区天山路800号",
            "respondent_kind": "merchant",
            "respondent_name": "杭州某某家电旗舰店",
            "respondent_mobile": "13900000022",
            "claim_amount": "2399.00",
            "facts": "2026年11月在某电商平台购买空气净化器一台，收货后发现机身开裂、无法开机。"
            "申请退货退款，商家以“人为损坏”为由拒绝。",
            "requested_outcome": "退货并退还货款2399元。",
        },
        evidence=("订单截图.pdf",),
    ),
    DemoCase(
        filer="13800000001",
        fields={
            "domain": "tourism",
            "category": "forced_shopping",
            "applicant_kind": "natural_person",
            "applicant_name": "张伟",
            "applicant_id_number": "310105198803154211",
            "applicant_mobile": "13800000001",
            "applicant_address": "上海市长宁区江苏路街道华山路1000弄5号",
            "respondent_kind": "merchant",
            "respondent_name": "上海畅游假期旅行社有限公司",
            "respondent_email": "complaints@changyou.example.com",
            "claim_amount": "1500.00",
            "facts": "参加“海南五日游”期间，导游安排进入合同未约定的珠宝店停留三小时，"
            "并以不购物不发车相要挟，被迫购买玉器一件1500元。",
            "requested_outcome": "退还购物款1500元，旅行社书面道歉。",
        },
    ),
)


# An enrolled first-response enterprise (先行协商) with its handler's account; the last demo
# case is filed against it, so it waits for the merchant's answer in its portal.
DEMO_MERCHANT_USCC = "91310105MA1FL6Q2AQ"
DEMO_MERCHANT_NAME = "上海乐购优选电子商务有限公司"
DEMO_MERCHANT_HANDLER = ("merchant", "商家客服 林晓")

MERCHANT_CASE = DemoCase(
    filer="13800000002",
    fields={
        "domain": "internet",
        "category": "non_delivery_refund",
        "applicant_kind": "natural_person",
        "applicant_name": "王芳",
        "applicant_id_number": "310105199206204422",
        "applicant_mobile": "13800000002",
        "applicant_address": "上海市长宁区天山路800号",
        "respondent_kind": "merchant",
        "respondent_name": DEMO_MERCHANT_NAME,
        "respondent_id_number": DEMO_MERCHANT_USCC,
        "respondent_mobile": "13900000033",
        "claim_amount": "459.00",
        "facts": "2026年11月在乐购优选网店购买蓝牙耳机一副并付款459元，商家承诺48小时内发货，"
        "十天后仍未发货，联系客服无人答复。",
        "requested_outcome": "退还货款459元。",
    },
    evidence=("付款记录.pdf",),
)


async def _seed_merchant(partner: PartnerPlatform, now: datetime) -> list[str]:
    """The demo merchant, a merchant of the demo partner platform that vouched for it (so the
    platform's webhooks tell it how its merchant answers)."""
    if await Merchant.exists(uscc=DEMO_MERCHANT_USCC):
        return []
    username, name = DEMO_MERCHANT_HANDLER
    await do_vouch_enrolment(
        partner_id=partner.id,
        uscc=DEMO_MERCHANT_USCC,
        name=DEMO_MERCHANT_NAME,
        answer_days=DEFAULT_ANSWER_DAYS,
        handler_username=username,
        handler_password=DEMO_PASSWORD,
        handler_name=name,
        handler_email="service@legou.example.com",
        handler_mobile=None,
        now=now,
    )
    return [f"merchant {DEMO_MERCHANT_NAME} (handler {username})"]


async def _seed_partner_webhooks(partner: PartnerPlatform, now: datetime) -> list[str]:
    """The demo partner's administrator and its endpoint at the demo receiver."""
    created: list[str] = []
    username, name = DEMO_PARTNER_ADMIN
    if not await User.exists(username=username):
        await do_create_partner_admin(
            partner.id, username=username, password=DEMO_PASSWORD, display_name=name
        )
        created.append(f"partner admin {username}")
    if not await endpoints_of(partner.id):
        url = demo_receiver_url()
        await do_add_endpoint(
            partner.id,
            url,
            list(SUBSCRIBABLE),
            "演示接收端 (mediation demo)",
            now,
            allow_http=True,
            secret=DEMO_WEBHOOK_SECRET,
        )
        created.append(f"webhook endpoint {url}")
    return created


async def seed_demo(settings: Settings, now: datetime, *, history: bool = False) -> list[str]:
    """Load the demo data; returns a line per thing created, for the console. `history`: a
    year of generated cases for the district's figures (seeds.history)."""
    created: list[str] = []
    orgs: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        org = await Organisation.get_or_none(code=spec.code)
        if org is None:
            org = await Organisation.create(
                code=spec.code,
                name=spec.name,
                name_en=spec.name_en,
                track=spec.track,
                categories=list(spec.categories),
                address=spec.address,
                service_areas=["长宁区"] if spec.code.startswith("CN-") else ["上海市", "长宁区"],
                accepts_court_entrusted=spec.track in (Track.PEOPLES, Track.INDUSTRY),
            )
            created.append(f"organisation {spec.name}")
        orgs[spec.code] = org

    for username, role, name, org_code in STAFF:
        if not await User.exists(username=username):
            await do_create_staff(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                display_name=name,
                organisation_id=orgs[org_code].id if org_code else None,
            )
            created.append(f"{role.value} {username}")
        if role is Role.MEDIATOR and org_code:
            # The roster entry, as an organisation admin would fill it in.
            mediator = await User.get(username=username)
            await MediatorProfile.filter(user=mediator).update(
                specialties=list(orgs[org_code].categories),
                languages=["zh", "en"] if username in ENGLISH_SPEAKING else ["zh"],
                regions=["长宁区"],
                capacity=20,
            )

    users: dict[str, User] = {}
    for mobile, name in DISPUTANTS:
        found = await User.get_or_none(mobile=mobile)
        if found is None:
            found = await do_register_disputant(
                identifier=mobile, password=DEMO_PASSWORD, display_name=name
            )
            created.append(f"disputant {mobile}")
        users[mobile] = found

    partner = await PartnerPlatform.get_or_none(name=DEMO_PARTNER_NAME)
    if partner is None:
        partner, _ = await do_create_partner(DEMO_PARTNER_NAME, key=DEMO_PARTNER_KEY)
        created.append(f"partner {DEMO_PARTNER_NAME}")
    # Before the cases are filed, so the partner hears of its merchant's dispute.
    created += await _seed_partner_webhooks(partner, now)
    created += await _seed_merchant(partner, now)

    for case_spec in (*CASES, MERCHANT_CASE):
        filer = users[case_spec.filer]
        fields = {
            **case_spec.fields,
            "consent_voluntary": "on",
            "consent_service_address": "on",
            "consent_false_mediation": "on",
        }
        if await Case.exists(filed_by=filer, facts=fields["facts"]):
            continue
        # A document of its own per file: one content is one evidence item per case.
        uploads = [Upload(name, _demo_pdf(name)) for name in case_spec.evidence]
        case = await file_dispute(settings, fields, uploads, Filer(user_id=filer.id), now)
        created.append(f"case {case.number}")
    if history:
        created += await seed_history(now)
    return created


__all__ = ["DEMO_PASSWORD", "seed_demo"]
