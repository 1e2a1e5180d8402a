"""axe-core (through axe-playwright-python) on a Playwright page: WCAG 2.0, 2.1 and 2.2, levels
A and AA. `assert_accessible(page, "what")` fails with every violation listed, each with its
rule, its help text and the elements it was found on, so a new one is fixed where it is.

axe also reports what it could not decide ("incomplete"). Those count as violations too,
except colour contrast, which axe leaves undecided whenever the text is a lone symbol or
its background is not a plain colour: a duplicate id that ARIA may point at, or an ARIA
attribute an element may not carry, is a fault whatever axe is unsure of."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations", "incomplete"],
}
UNDECIDABLE = {"color-contrast"}

_axe = Axe()


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of the page as it is now (every rule of the WCAG A/AA tags), with the
    undecided results that are faults all the same."""
    found = _axe.run(page, options=OPTIONS).response
    undecided = [r for r in found["incomplete"] if r["id"] not in UNDECIDABLE]
    return list(found["violations"]) + undecided


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


def assert_accessible(page: Page, what: str) -> None:
    found = violations(page)
    assert not found, f"{what} ({page.url}): {len(found)} WCAG 2.2 AA faults\n" + describe(found)
