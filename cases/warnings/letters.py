"""Suggestion letters drafted from an alert (pure): the template a draft starts from.

A suggestion letter is a Chinese official document whatever the interface language (as the
mediation agreement is): a governance suggestion (诉源治理建议书) to a platform, merchant or
regulator, or, from the court, a judicial suggestion (司法建议). The draft states the rule
that fired, its parameters and the figures; staff edit it before it is issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cases.warnings.rules import Rule

MAX_TITLE_CHARS = 200
MAX_ADDRESSEE_CHARS = 200
MAX_BODY_CHARS = 20000

KIND_TITLES: Mapping[str, str] = {
    "governance": "诉源治理建议书",
    "judicial": "司法建议书",
}


@dataclass(frozen=True)
class Draft:
    title: str
    addressee: str
    body: str


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _findings(
    rule: str, label: str, parameters: Mapping[str, Any], figures: Mapping[str, Any]
) -> str:
    p, f = parameters, figures
    if rule == Rule.SURGE:
        return (
            f"经本平台纠纷数据监测，近7日涉及“{label}”的纠纷申请共{f.get('last_7_days', 0)}件，"
            f"前{p.get('weeks', 8)}周每周申请量的中位数为{f.get('median_week', 0):g}件，"
            f"已超过中位数的{p.get('factor', 3):g}倍且不少于{p.get('floor', 10)}件，"
            "纠纷呈集中爆发态势。"
        )
    if rule == Rule.RESPONSE_RATE:
        rate = float(f.get("rate", 0.0))
        return (
            f"经本平台纠纷数据监测，近{p.get('days', 30)}日“{label}”收到先行协商请求"
            f"{f.get('asked', 0)}件，作出回应{f.get('answered', 0)}件，回应率{rate:.0%}，"
            f"低于{float(p.get('below', 0.5)):.0%}的预警标准。"
        )
    return (
        f"经本平台纠纷数据监测，{p.get('hours', 48)}小时内针对“{label}”的同类纠纷申请"
        f"共{f.get('filings', 0)}件，达到{p.get('filings', 10)}件的群体性纠纷预警标准。"
    )


def draft_text(
    kind: str,
    rule: str,
    label: str,
    parameters: Mapping[str, Any],
    figures: Mapping[str, Any],
    *,
    addressee: str,
    issuer: str,
    today: date,
) -> Draft:
    """The text a new letter starts from, filled with the alert's figures."""
    title = KIND_TITLES.get(kind, KIND_TITLES["governance"])
    suggestions = (
        "一、对上述纠纷集中反映的问题开展自查，查明成因并及时整改；\n"
        "二、畅通投诉与先行协商渠道，在规定期限内回应消费者诉求；\n"
        "三、对已发生的纠纷积极协商化解，必要时通过本平台申请调解；\n"
        "四、自收到本建议书之日起三十日内将整改情况书面反馈。"
    )
    if kind == "judicial":
        suggestions = (
            "一、针对上述纠纷反映的管理漏洞，完善相关规则与监管措施；\n"
            "二、督促相关经营者规范经营行为，从源头减少纠纷；\n"
            "三、自收到本司法建议之日起两个月内将处理情况书面回复本院。"
        )
    # The salutation (the addressee and a colon) is printed from the addressee field, so
    # the body starts with the findings.
    body = (
        f"{_findings(rule, label, parameters, figures)}"
        "为推动互联网纠纷源头治理，从源头上预防和减少纠纷，现提出如下建议：\n\n"
        f"{suggestions}\n\n"
        f"{issuer}\n{_day(today)}"
    )
    return Draft(title=title, addressee=addressee, body=body)


def letter_errors(addressee: str, title: str, body: str) -> dict[str, str]:
    """Field error codes of an edited letter (empty: none)."""
    errors: dict[str, str] = {}
    if not addressee.strip():
        errors["addressee"] = "required"
    elif len(addressee) > MAX_ADDRESSEE_CHARS:
        errors["addressee"] = "too_long"
    if not title.strip():
        errors["title"] = "required"
    elif len(title) > MAX_TITLE_CHARS:
        errors["title"] = "too_long"
    if not body.strip():
        errors["body"] = "required"
    elif len(body) > MAX_BODY_CHARS:
        errors["body"] = "too_long"
    return errors
