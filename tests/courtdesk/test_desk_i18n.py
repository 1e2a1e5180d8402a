"""The desk's own catalog: every string it shows has a Chinese translation, and its strings
stay out of the platform's catalog (scripts/translations.py keeps the two apart)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from courtdesk.i18n import negotiate, translations
from courtdesk.messages import ERROR_MESSAGES

ROOT = Path(__file__).resolve().parents[2]


def translations_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "translations", ROOT / "scripts" / "translations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_desk_string_is_translated() -> None:
    script = translations_script()
    template = script.extract(script.DESK_METHODS)
    assert len(list(template)) > 100  # the pages and messages were found
    assert script.untranslated(template, script.load(script.DESK_PO)) == []


def test_desk_strings_are_not_in_the_platform_catalog() -> None:
    script = translations_script()
    platform_ids = {message.id for message in script.extract()}
    assert "Sign in to the court desk" not in platform_ids
    assert "Docket under case type" not in platform_ids


def test_messages_in_chinese_by_default_and_english_on_request() -> None:
    zh = translations("zh_CN").gettext
    assert zh(ERROR_MESSAGES["already_docketed"]) % {"number": "(2026)沪0105民初1号"} == (
        "该案件已立案，案号为 (2026)沪0105民初1号。"
    )
    assert translations("en").gettext(ERROR_MESSAGES["reason_required"]) == "Give the reason."
    assert negotiate(None, None) == "zh_CN"
    assert negotiate(None, "en-GB,en;q=0.8,zh;q=0.5") == "en"
    assert negotiate(None, "zh-TW,en;q=0.5") == "zh_CN"
    assert negotiate("en", "zh-CN") == "en"
    assert negotiate("fr", "fr-FR") == "zh_CN"
