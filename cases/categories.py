"""Dispute domains and categories that can be filed; labels in zh-CN first, English second."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Domain(StrEnum):
    TOURISM = "tourism"
    INTERNET = "internet"


@dataclass(frozen=True)
class Category:
    code: str
    domain: Domain
    zh: str
    en: str


CATEGORIES: tuple[Category, ...] = (
    Category("tour_contract", Domain.TOURISM, "包价旅游合同纠纷", "Package-tour contract"),
    Category("tour_refund", Domain.TOURISM, "旅游费用退还", "Tour-fee refund"),
    Category("forced_shopping", Domain.TOURISM, "强制购物", "Forced shopping"),
    Category("accommodation", Domain.TOURISM, "住宿服务", "Accommodation"),
    Category("transport_tickets", Domain.TOURISM, "交通与票务", "Transport and tickets"),
    Category("scenic_spot", Domain.TOURISM, "景区服务", "Scenic spots"),
    Category("guide_service", Domain.TOURISM, "导游领队服务", "Guide service"),
    Category("tourism_other", Domain.TOURISM, "其他旅游纠纷", "Other tourism dispute"),
    Category("goods_quality", Domain.INTERNET, "网购商品质量", "Online shopping: quality"),
    Category("non_delivery_refund", Domain.INTERNET, "未发货或退款", "Non-delivery or refund"),
    Category("platform_service", Domain.INTERNET, "平台服务", "Platform service"),
    Category("false_advertising", Domain.INTERNET, "虚假宣传", "False advertising"),
    Category("livestream_commerce", Domain.INTERNET, "直播带货", "Live-stream commerce"),
    Category("food_delivery", Domain.INTERNET, "外卖餐饮", "Food delivery"),
    Category("travel_booking", Domain.INTERNET, "在线旅游预订", "Travel booking"),
    Category("personal_information", Domain.INTERNET, "个人信息保护", "Personal information"),
    Category("internet_other", Domain.INTERNET, "其他互联网纠纷", "Other internet dispute"),
)

BY_CODE: dict[str, Category] = {c.code: c for c in CATEGORIES}


def categories_of(domain: Domain) -> tuple[Category, ...]:
    return tuple(c for c in CATEGORIES if c.domain is domain)
