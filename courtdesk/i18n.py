"""The desk's translations: English message ids, Simplified Chinese by default.

Its own catalog (courtdesk/locale/zh_CN/LC_MESSAGES/messages.po), filled with
`scripts/translations.py --desk`, compiled in memory at start-up like the platform's.
"""

from __future__ import annotations

import io
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
LOCALE_COOKIE = "desk_lang"  # not the platform's "lang": the two may share a host name


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    po_path = files("courtdesk") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        # The plain folder name: Locale.parse("zh_CN") would become zh_Hans_CN.
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """A chosen language (cookie) wins; then English only for a browser that puts it ahead
    of any Chinese; everyone else gets Simplified Chinese."""
    for tag in [cookie or "", *_by_quality(accept_language or "")]:
        tag = tag.strip().replace("-", "_").lower()
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


def _by_quality(header: str) -> list[str]:
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]
