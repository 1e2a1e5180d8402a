"""Translations: message ids are English; Simplified Chinese is the default language.

Catalogs are the checked-in .po files, compiled in memory at start-up, so there is no
build step between editing a translation and seeing it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
LOCALE_COOKIE = "lang"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    po_path = files("mediation") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as po_file:
        # Load with the plain folder name: Locale.parse("zh_CN") would become zh_Hans_CN.
        catalog = read_po(po_file, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def normalise_locale(tag: str) -> str | None:
    tag = tag.strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        # Traditional-script readers still get Simplified Chinese, the only Chinese we ship.
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """A chosen language (cookie) wins; otherwise English only for browsers asking for it
    ahead of any Chinese; everyone else gets the default, Simplified Chinese."""
    if cookie and (chosen := normalise_locale(cookie)):
        return chosen
    for tag in _by_quality(accept_language or ""):
        if found := normalise_locale(tag):
            return found
    return DEFAULT_LOCALE


def _by_quality(header: str) -> Iterable[str]:
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
