"""The mediation agreement (调解协议书): checking a draft, rendering its text, who must still
sign, when it takes effect, and the platform's attestations over what was signed.

Pure: no I/O. The contents follow the People's Mediation Law Art. 29 (the parties' basic
details; the main facts, the disputed matters and each party's responsibility; the terms,
with the manner and time limit of performance). The agreement takes effect when the last
required signature is made (online mediation rules Art. 19).

`content` (stored on AgreementVersion.content) has exactly this shape, which other parts of
the platform (the PDF, performance tracking, the court package) read:

    {"parties": [{"side": "applicant"|"respondent", "name", "kind", "id_number",
                  "service_address"}],
     "facts": str, "disputed_matters": str, "responsibilities": str,
     "terms": [{"text": str, "obligor_side": "applicant"|"respondent",
                "amount": "1000.00" | None, "manner": str, "due_on": "YYYY-MM-DD" | None}],
     "other": str}

`id_number` and `service_address` are "" when the case has none.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cases.filing import check_amount
from cases.identity import mask_resident_id
from cases.timeline import name_without_title

SIDES = ("applicant", "respondent")
# Each side and the mediator (People's Mediation Law Art. 29; online mediation rules Art. 19).
REQUIRED_SIGNERS = ("applicant", "respondent", "mediator")
TRACKS = ("peoples", "administrative", "arbitration", "industry")

MAX_TERMS = 30
SECTION_MAX = 5000  # facts, disputed matters, responsibilities, other
TERM_TEXT_MAX = 1000
MANNER_MAX = 100
# A time limit of performance further out than this is almost certainly a typing mistake.
LONGEST_PERFORMANCE = timedelta(days=10 * 366)

FieldErrors = dict[str, str]


# --- checking a draft ------------------------------------------------------------------------


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    return value.strip() if isinstance(value, str) else ""


def _blank(row: Mapping[str, Any]) -> bool:
    return not any(_text(row, name) for name in ("text", "obligor_side", "amount", "manner"))


def check_due_on(value: str, today: date) -> tuple[date | None, str | None]:
    if not value:
        return None, "agreement_due_date_required"
    try:
        due = date.fromisoformat(value)
    except ValueError:
        return None, "date_invalid"
    if due < today:
        return None, "agreement_due_date_past"
    if due > today + LONGEST_PERFORMANCE:
        return None, "agreement_due_date_too_far"
    return due, None


def _check_term(
    row: Mapping[str, Any], key: str, today: date, errors: FieldErrors
) -> dict[str, Any]:
    text = _text(row, "text")
    if not text:
        errors[f"{key}.text"] = "required"
    elif len(text) > TERM_TEXT_MAX:
        errors[f"{key}.text"] = "too_long"
    obligor = _text(row, "obligor_side")
    if obligor not in SIDES:
        errors[f"{key}.obligor_side"] = "agreement_obligor_required"
    amount_raw = _text(row, "amount")
    amount: Decimal | None = None
    if amount_raw:
        amount, problem = check_amount(amount_raw)
        if problem:
            errors[f"{key}.amount"] = problem
    manner = _text(row, "manner")
    if not manner:
        errors[f"{key}.manner"] = "agreement_manner_required"
    elif len(manner) > MANNER_MAX:
        errors[f"{key}.manner"] = "too_long"
    due, problem = check_due_on(_text(row, "due_on"), today)
    if problem:
        errors[f"{key}.due_on"] = problem
    return {
        "text": text,
        "obligor_side": obligor,
        "amount": f"{amount:.2f}" if amount is not None else None,
        "manner": manner,
        "due_on": due.isoformat() if due else None,
    }


def check_draft(
    raw: Mapping[str, Any], parties: Sequence[Mapping[str, str]], today: date
) -> tuple[dict[str, Any] | None, FieldErrors]:
    """The draft's content, or field errors (`terms.<row>.<field>` for a term).

    `raw` holds the editor's fields and `terms`, a list of rows as typed; rows left wholly
    blank are skipped (the editor offers spare rows), but errors keep each row's index so
    they show beside the row that has them. `parties` come from the case, never the form.
    `today` is the local (Beijing) date: a time limit of performance cannot lie before it.
    """
    errors: FieldErrors = {}
    sections: dict[str, str] = {}
    for name, required in (
        ("facts", True),
        ("disputed_matters", True),
        ("responsibilities", True),
        ("other", False),
    ):
        value = _text(raw, name)
        if required and not value:
            errors[name] = "required"
        elif len(value) > SECTION_MAX:
            errors[name] = "too_long"
        sections[name] = value
    rows = raw.get("terms") or []
    terms = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping) or _blank(row):
            continue
        terms.append(_check_term(row, f"terms.{index}", today, errors))
    if not terms:
        errors["terms"] = "agreement_terms_required"
    elif len(terms) > MAX_TERMS:
        errors["terms"] = "agreement_too_many_terms"
    if not any(p.get("side") == "applicant" for p in parties) or not any(
        p.get("side") == "respondent" for p in parties
    ):
        errors["parties"] = "agreement_parties_missing"
    if errors:
        return None, errors
    content = {
        "parties": [
            {
                "side": str(p.get("side", "")),
                "name": str(p.get("name", "")),
                "kind": str(p.get("kind", "")),
                "id_number": str(p.get("id_number") or ""),
                "service_address": str(p.get("service_address") or ""),
            }
            for p in parties
        ],
        "facts": sections["facts"],
        "disputed_matters": sections["disputed_matters"],
        "responsibilities": sections["responsibilities"],
        "terms": terms,
        "other": sections["other"],
    }
    return content, {}


def check_still_valid(content: Mapping[str, Any], today: date) -> FieldErrors:
    """Before a draft goes up for signature: a time limit that has passed since it was
    saved must be corrected first (a new version)."""
    errors: FieldErrors = {}
    for index, term in enumerate(content.get("terms") or []):
        due = term.get("due_on")
        if due and date.fromisoformat(due) < today:
            errors[f"terms.{index}.due_on"] = "agreement_due_date_past"
    return errors


# A term drafted from an accepted offer is due this many days after drafting, unless the
# mediator changes it: the offer's conditions say when in words, the form needs a date.
OFFER_TERM_DAYS = 15


@dataclass(frozen=True)
class AcceptedTerms:
    """An offer accepted in the joint room: its amount and conditions, and who accepted it."""

    amount: str  # "3200.00"
    conditions: str
    offered_by: str | None  # applicant | respondent | None (the mediator proposed it)
    accepted_by: str | None


def term_from_offer(offer: AcceptedTerms, today: date) -> dict[str, str]:
    """The agreement's term for an accepted offer. The claim is the applicant's against the
    respondent, so the respondent pays the amount agreed; the manner is the offer's conditions
    (or a bank transfer), and it is due OFFER_TERM_DAYS days from today."""
    amount = Decimal(offer.amount)
    return {
        "text": f"被申请人向申请人支付人民币{amount:,.2f}元",
        "obligor_side": "respondent",
        "amount": f"{amount:.2f}",
        "manner": offer.conditions.strip()[:MANNER_MAX] or "银行转账",
        "due_on": (today + timedelta(days=OFFER_TERM_DAYS)).isoformat(),
    }


def prefill(
    parties: Sequence[Mapping[str, str]],
    facts: str,
    requested_outcome: str,
    accepted: AcceptedTerms | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """A first draft from the case: its parties, the facts as filed, the claim as the
    disputed matter, and the offer the parties accepted as its first term. The mediator
    rewrites them with what the session established."""
    terms = [term_from_offer(accepted, today)] if accepted is not None and today else []
    return {
        "parties": [dict(p) for p in parties],
        "facts": facts,
        "disputed_matters": f"申请人请求：{requested_outcome}" if requested_outcome else "",
        "responsibilities": "",
        "terms": terms,
        "other": "",
    }


# --- the text -----------------------------------------------------------------------------------

TITLES = {
    "peoples": "人民调解协议书",
    "administrative": "行政调解协议书",
    "arbitration": "仲裁调解协议书",
    "industry": "行业性专业性调解协议书",
}
MEDIATOR_LABELS = {
    "peoples": "人民调解员",
    "administrative": "调解员",
    "arbitration": "调解员",
    "industry": "调解员",
}
ORGANISATION_LABELS = {
    "peoples": "人民调解委员会",
    "administrative": "调解机关",
    "arbitration": "仲裁调解组织",
    "industry": "调解组织",
}
# What the agreement means once in effect, in each track's own law.
EFFECT_CLAUSES = {
    "peoples": (
        "本协议具有法律约束力，当事人应当按照约定履行（《中华人民共和国人民调解法》第三十一条）。",
        "双方当事人可以自本协议生效之日起三十日内共同向人民法院申请司法确认"
        "（《中华人民共和国人民调解法》第三十三条）。",
    ),
    "administrative": (
        "当事人应当按照本协议的约定履行。",
        "双方当事人可以自本协议生效之日起三十日内依法共同向人民法院申请司法确认。",
    ),
    "arbitration": (
        "当事人应当按照本协议的约定履行。",
        "双方当事人可以请求仲裁庭根据本协议制作调解书，或者根据本协议的结果制作裁决书"
        "（《中华人民共和国仲裁法》第五十一条）。",
    ),
    "industry": (
        "本协议具有民事合同性质，当事人应当按照约定履行。",
        "双方当事人可以自本协议生效之日起三十日内依法共同向人民法院申请司法确认。",
    ),
}
COMMON_CLAUSES = (
    "本协议以电子方式订立：当事人和调解员经身份核验后以电子签名签署，调解组织加盖电子印章；"
    "本协议自最后一位应签署人签名时生效（《人民法院在线调解规则》第十九条）。",
    "本协议的电子文本由平台保存，双方当事人和调解组织各执一份，具有同等效力。",
)
SIDE_LABELS = {"applicant": "申请人", "respondent": "被申请人"}
KIND_LABELS = {
    "natural_person": "自然人",
    "organisation": "单位",  # a company or other organisation (not "法人或其他组织")
    "merchant": "经营者",
    "platform": "平台经营者",
}
_NUMERALS = "一二三四五六七八九十"


def _local_date(value: str) -> str:
    day = date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def _party_line(party: Mapping[str, str]) -> str:
    side = SIDE_LABELS.get(party.get("side", ""), "")
    kind = party.get("kind", "")
    line = f"{side}：{party.get('name', '')}（{KIND_LABELS.get(kind, kind)}）"
    id_number = party.get("id_number") or ""
    address = party.get("service_address") or ""
    if kind == "natural_person":
        # A person's identity number and address stay masked or out of the shared text, as
        # everywhere on the platform; the full details are kept with the case (and go to the
        # court with a judicial confirmation application).
        if id_number:
            line += f"，公民身份号码：{mask_resident_id(id_number)}"
        return line
    if id_number:
        line += f"，统一社会信用代码：{id_number}"
    if address:
        line += f"，送达地址：{address}"
    return line


def term_details(term: Mapping[str, Any]) -> str:
    """'履行义务人：…；金额：…；履行方式：…；履行期限：…' for one term."""
    parts = [f"履行义务人：{SIDE_LABELS.get(term.get('obligor_side', ''), '')}"]
    if term.get("amount"):
        amount = Decimal(term["amount"])
        parts.append(f"金额：人民币{amount:,.2f}元（大写：{rmb_upper(amount)}）")
    if term.get("manner"):  # a checked draft always has one; content built elsewhere may not
        parts.append(f"履行方式：{term['manner']}")
    if term.get("due_on"):
        parts.append(f"履行期限：{_local_date(term['due_on'])}前")
    return "；".join(parts)


def render_text(
    content: Mapping[str, Any],
    *,
    track: str,
    organisation_name: str,
    case_number: str,
    version_number: int,
    mediator_name: str,
) -> str:
    """The agreement's full text: what every signature and the seal cover (by its SHA-256)."""
    track = track if track in TITLES else "peoples"
    parties = list(content.get("parties") or [])
    terms = list(content.get("terms") or [])
    lines = [
        TITLES[track],
        "",
        f"调解组织：{organisation_name}",
        f"案件编号：{case_number}",
        f"文本版本：第{version_number}版",
        "",
    ]
    sections: list[tuple[str, list[str]]] = [
        ("当事人基本情况", [_party_line(p) for p in parties]),
        ("纠纷的主要事实", [content.get("facts", "")]),
        ("争议事项", [content.get("disputed_matters", "")]),
        ("各方责任", [content.get("responsibilities", "")]),
    ]
    agreed = ["经调解，双方当事人自愿达成如下协议："]
    for number, term in enumerate(terms, start=1):
        agreed.append(f"{number}. {term.get('text', '')}")
        agreed.append(f"   （{term_details(term)}）")
    sections.append(("协议内容", agreed))
    sections.append(("其他事项", [content.get("other") or "无。"]))
    sections.append(("协议效力", [*EFFECT_CLAUSES[track], *COMMON_CLAUSES]))
    for index, (heading, body) in enumerate(sections):
        lines.append(f"{_NUMERALS[index]}、{heading}")
        lines.extend(line for chunk in body for line in str(chunk).splitlines() or [""])
        lines.append("")
    for side in SIDES:
        for party in parties:
            if party.get("side") == side:
                how = "签名" if party.get("kind") == "natural_person" else "签名或盖章"
                lines.append(f"{SIDE_LABELS[side]}（{how}）：{party.get('name', '')}")
    lines.append(f"{MEDIATOR_LABELS[track]}（签名）：{name_without_title(mediator_name)}")
    lines.append(f"{ORGANISATION_LABELS[track]}（印章）：{organisation_name}")
    lines.append("签署时间：以各方电子签名时间为准。")
    return "\n".join(lines) + "\n"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")
_GROUPS = ("", "万", "亿")


def _group_upper(group: int) -> str:
    out, zero = "", False
    for place, digit in zip(
        _PLACES, (group // 1000, group // 100 % 10, group // 10 % 10, group % 10), strict=True
    ):
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + place
    return out


def rmb_upper(amount: Decimal) -> str:
    """An amount in yuan in capital numerals (大写金额), as financial documents write it:
    Decimal("3680.00") -> 叁仟陆佰捌拾元整; Decimal("100010.05") -> 壹拾万零壹拾元零伍分."""
    fen_total = int((amount * 100).to_integral_value())
    if fen_total < 0 or fen_total >= 10**12:
        raise ValueError("amount out of range")
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)
    integer, pending_zero = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending_zero = bool(integer)
            continue
        if integer and (pending_zero or group < 1000):
            integer += "零"
        integer += _group_upper(group) + _GROUPS[index]
        pending_zero = False
    if not integer and not rest:
        return "零元整"
    out = integer + "元" if integer else ""
    if not rest:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif integer:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    return out


@dataclass(frozen=True)
class DiffLine:
    op: str  # " " unchanged, "+" added, "-" removed
    text: str


def line_diff(before: str, after: str) -> list[DiffLine]:
    """The lines of `after` against `before`, for a version history a person can read."""
    return [
        DiffLine(line[0], line[2:])
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line[:1] in (" ", "+", "-")
    ]


# --- performance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedItem:
    term_number: int
    obligor_side: str
    description: str
    due_on: date


def performance_plan(content: Mapping[str, Any]) -> list[PlannedItem]:
    """A performance item for each term that has a time limit, numbered as in the text."""
    items = []
    for number, term in enumerate(content.get("terms") or [], start=1):
        if not term.get("due_on"):
            continue
        # The term's own sentence ends where the details begin: "退还团费；金额：…", never
        # "退还团费。；金额：…".
        parts = [str(term.get("text", "")).strip().rstrip("。；;，,. ")]
        if term.get("amount"):
            parts.append(f"金额：人民币{Decimal(term['amount']):,.2f}元")
        if term.get("manner"):
            parts.append(f"履行方式：{term['manner']}")
        items.append(
            PlannedItem(
                number,
                str(term.get("obligor_side", "")),
                "；".join(parts),
                date.fromisoformat(term["due_on"]),
            )
        )
    return items


# --- signatures and effect ---------------------------------------------------------------------


def signer_role(user_id: int, mediator_id: int | None, party_side: str | None) -> str | None:
    """The role in which this user signs: the case's mediator, or a party for its side."""
    if mediator_id is not None and user_id == mediator_id:
        return "mediator"
    if party_side in SIDES:
        return party_side
    return None


def missing_signers(signed_roles: Iterable[str]) -> tuple[str, ...]:
    signed = set(signed_roles)
    return tuple(role for role in REQUIRED_SIGNERS if role not in signed)


def takes_effect(signed_roles: Iterable[str]) -> bool:
    """The last required signature makes the agreement effective (Art. 19)."""
    return not missing_signers(signed_roles)


def canonical_time(moment: datetime) -> str:
    """Whole seconds in UTC: survives every database's round trip unchanged."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A key of its own for each purpose, so no MAC can be replayed as another kind."""
    return hmac.new(secret_key.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


def _mac(key: bytes, *parts: object) -> str:
    message = "\x1f".join(str(part) for part in parts).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def attestation(
    secret_key: str, *, version_id: int, role: str, signer_id: int, sha256: str, signed_at: datetime
) -> str:
    """The platform's statement that this signer, identity re-confirmed, signed this text."""
    key = derive_key(secret_key, "agreement-signature")
    return _mac(key, version_id, role, signer_id, sha256, canonical_time(signed_at))


def verify_attestation(
    secret_key: str,
    *,
    version_id: int,
    role: str,
    signer_id: int,
    sha256: str,
    signed_at: datetime,
    mac: str,
) -> bool:
    expected = attestation(
        secret_key,
        version_id=version_id,
        role=role,
        signer_id=signer_id,
        sha256=sha256,
        signed_at=signed_at,
    )
    return hmac.compare_digest(expected, mac)


def seal(
    secret_key: str,
    *,
    organisation_code: str,
    organisation_name: str,
    sha256: str,
    sealed_at: datetime,
) -> dict[str, str]:
    """The organisation's e-seal over the text's hash, with a key of the organisation's own."""
    at = canonical_time(sealed_at)
    key = derive_key(secret_key, f"organisation-seal:{organisation_code}")
    return {
        "organisation": organisation_code,
        "name": organisation_name,
        "sha256": sha256,
        "sealed_at": at,
        "mac": _mac(key, organisation_code, organisation_name, sha256, at),
    }


def verify_seal(secret_key: str, value: Mapping[str, Any], sha256: str) -> bool:
    """True when the seal is the platform's, for this organisation, over this hash."""
    try:
        code, name, at = str(value["organisation"]), str(value["name"]), str(value["sealed_at"])
        mac = str(value["mac"])
    except KeyError:
        return False
    if value.get("sha256") != sha256:
        return False
    key = derive_key(secret_key, f"organisation-seal:{code}")
    return hmac.compare_digest(_mac(key, code, name, sha256, at), mac)
