"""Refresh the message catalog: extract every marked string and merge it into messages.po.

    python scripts/translations.py          # extract and update; new strings come in empty
    python scripts/translations.py --check  # exit 1 if any string lacks a Chinese translation
    python scripts/translations.py --fill zh.json  # extract, then take translations from a
                                                   # JSON object {"English msgid": "中文", ...}
    python scripts/translations.py --desk [--fill zh.json]  # the same for the court desk's
                                                   # own catalog (courtdesk/locale)

--check covers both catalogs. The court desk is a separate application with its own catalog:
its strings (courtdesk/**.py, templates/clerk/**.html) are kept out of the platform's. The
labels both applications show (cases/timeline.py, courtwire/**.py) go into both catalogs.

tests/mediation/test_i18n.py runs the same check, so an untranslated string fails the suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "mediation" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
DESK_PO = ROOT / "courtdesk" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
METHODS = [
    ("mediation/**.py", "python"),
    ("cases/**.py", "python"),  # the domains' own labels (the timeline's: cases/timeline.py)
    ("courtwire/**.py", "python"),  # the labels of what crosses to the court (words.py)
    ("templates/clerk/**", "ignore"),  # the court desk's pages: its own catalog
    ("templates/**.html", "jinja2"),
]
DESK_METHODS = [
    ("courtdesk/**.py", "python"),
    ("cases/timeline.py", "python"),  # the timeline's labels, shared with the platform
    ("courtwire/**.py", "python"),  # the labels of what crosses the wire, shared likewise
    ("templates/clerk/**.html", "jinja2"),
]
_JINJA = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
OPTIONS = {"templates/**.html": _JINJA, "templates/clerk/**.html": _JINJA}
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


def extract(methods: list[tuple[str, str]] = METHODS) -> Catalog:
    template = Catalog(project="changning-mediation")
    for filename, lineno, message, _comments, _context in extract_from_dir(
        ROOT, methods, keywords=KEYWORDS, options_map=OPTIONS
    ):
        template.add(message, locations=[(filename, lineno)])
    return template


def load(po: Path = PO) -> Catalog:
    with po.open("rb") as f:
        return read_po(f, locale="zh_CN")


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        if found is None or not found.string or found.fuzzy:
            missing.append(str(message.id))
    return missing


def main() -> int:
    if "--check" in sys.argv:
        missing = untranslated(extract(), load())
        for message_id in missing:
            print(f"untranslated: {message_id!r}")
        desk_catalog = load(DESK_PO) if DESK_PO.exists() else Catalog(locale="zh_CN")
        desk_missing = untranslated(extract(DESK_METHODS), desk_catalog)
        for message_id in desk_missing:
            print(f"untranslated (court desk): {message_id!r}")
        return 1 if missing or desk_missing else 0
    po, methods = (DESK_PO, DESK_METHODS) if "--desk" in sys.argv else (PO, METHODS)
    template = extract(methods)
    catalog = load(po) if po.exists() else Catalog(locale="zh_CN")
    catalog.update(template, no_fuzzy_matching=True)
    if "--fill" in sys.argv:
        import json

        filled = json.loads(Path(sys.argv[sys.argv.index("--fill") + 1]).read_text("utf-8"))
        for message_id, translation in filled.items():
            message = catalog.get(message_id)
            if message is None:
                print(f"not in the source (skipped): {message_id!r}")
                continue
            message.string = translation
    po.parent.mkdir(parents=True, exist_ok=True)
    with po.open("wb") as f:
        write_po(
            f,
            catalog,
            omit_header=False,
            sort_output=True,
            include_previous=False,
            width=100,
            no_location=True,
        )
    print(f"{po.relative_to(ROOT)}: {len(untranslated(template, catalog))} untranslated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
