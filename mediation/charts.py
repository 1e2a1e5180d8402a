"""Charts as SVG (pygal), the same drawing for a page and for a PDF.

On a page (`standalone=False`, the default) a chart is inline SVG with no `<style>`, no
`<script>` and no `style` attribute, so the platform's Content-Security-Policy holds; its look
comes from `/static/charts.css` (`chart_css()`, written to the file by
`python -m mediation.charts`; a test keeps the two the same). In a PDF (WeasyPrint:
`standalone=True`) the chart carries its own stylesheet and still no script.

A chart is a picture: it has a title (`role="img"`, `aria-label`), and every page or PDF
that shows one shows its table beside it (the numbers, for a screen reader and for print).
There are no tooltips (they need script); the table holds the numbers.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

# pygal appends a sys.meta_path finder for its map plugins (not used here) that has no
# find_spec, so every later import of a module that is not installed warns (ImportWarning)
# instead of failing quietly; where warnings are errors (the tests) that breaks optional
# imports such as openpyxl's numpy. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

# The platform's fonts first (site.css), then the CJK fonts WeasyPrint finds on the machine.
FONT = (
    '"PingFang SC","Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",'
    '"Microsoft YaHei",sans-serif'
)
# site.css's brand blue first; the rest told apart by more than hue where it matters.
COLOURS = (
    "#0b5cad",
    "#d9480f",
    "#1e7b34",
    "#7048e8",
    "#b3261e",
    "#0c8599",
    "#e67700",
    "#5c940d",
    "#a61e4d",
    "#364fc7",
    "#495057",
    "#087f5b",
)
# How many series a page chart can colour (the stylesheet's .color-N rules).
MAX_SERIES = len(COLOURS)

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2733",
    foreground_strong="#1d2733",
    foreground_subtle="#5b6b7b",
    opacity=".85",
    opacity_hover="1",
    transition="0ms",
    colors=COLOURS,
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    title_font_size=20,
    label_font_size=16,
    major_label_font_size=16,
    legend_font_size=16,
    value_font_size=15,
    no_data_font_size=28,
)

# The class every chart's <svg> has; the page stylesheet's rules start with it.
CHART_CLASS = "pygal-chart"
_PREFIX = re.compile(r"#chart-[0-9a-f-]+ ?")


@dataclass(frozen=True)
class Series:
    """One line or one set of bars: its name (the legend) and a value per x label (None:
    no value, drawn as a gap)."""

    name: str
    values: tuple[float | None, ...]


def _strip_for_page(root: Any) -> Any:
    """Take out everything the CSP refuses: <style>, <script>, style="..." and the tooltip
    (drawn only by script). Name the picture for assistive technology."""
    for element in list(root.iter()):
        tag = element.tag if isinstance(element.tag, str) else ""
        local = tag.rsplit("}", 1)[-1]
        if local in ("style", "script"):
            element.getparent().remove(element)
            continue
        if "tooltip" in (element.get("class") or "").split() and element.getparent() is not None:
            element.getparent().remove(element)
            continue
        element.attrib.pop("style", None)
    return root


def _strip_script(root: Any) -> Any:
    for element in list(root.iter()):
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag.rsplit("}", 1)[-1] == "script":
            element.getparent().remove(element)
    return root


def _comments_out(root: Any) -> Any:
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments and processing instructions
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
    return root


def _label(root: Any, title: str) -> Any:
    root.set("role", "img")
    root.set("aria-label", title)
    return root


# A page chart is drawn 600 units wide and scaled to its box: on a phone about half size, so
# its words are drawn large. A page shows the title as its heading, so the drawing has none.
WIDTH, HEIGHT = 600, 380
MARGIN = 12
TRUNCATE = 12  # characters of a label (the table beside the chart has the whole name)


def _config(title: str, standalone: bool, **options: Any) -> dict[str, Any]:
    return {
        "title": title if standalone else None,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": standalone,
        "width": WIDTH,
        "height": HEIGHT,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 2,
        "truncate_legend": 14,
        "truncate_label": TRUNCATE,
        "print_values": False,
        "show_minor_x_labels": True,
        "x_label_rotation": 0,
        "margin": MARGIN,
        "no_data_text": "—",
        **options,
    }


def count_ticks(series: Sequence[Series], most: int = 6) -> list[int]:
    """Whole-number ticks from 0 for counts (pygal would label 0.2 of a case)."""
    top = max((v for one in series for v in one.values if v is not None), default=0)
    top = max(1, int(-(-top // 1)))
    step = 1
    for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        step = candidate
        if top / candidate <= most:
            break
    else:
        step = int(-(-top // most))
    return list(range(0, top + step, step))


def _draw(
    chart: Any, title: str, standalone: bool, x_labels: Sequence[str], series: Sequence[Series]
) -> Markup:
    chart.config.show_legend = len(series) > 1
    values = [v for one in series for v in one.values if v is not None]
    if values and all(float(v).is_integer() for v in values):
        chart.config.y_labels = count_ticks(series)
    # (pygal keeps xml_filters on the chart, not in its config)
    chart.add_xml_filter(_comments_out)
    chart.add_xml_filter(_strip_script if standalone else _strip_for_page)
    chart.add_xml_filter(lambda root: _label(root, title))
    chart.x_labels = list(x_labels)
    for one in series:
        chart.add(one.name, list(one.values))
    svg: str = chart.render(is_unicode=True)
    return Markup(svg)


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    standalone: bool = False,
) -> Markup:
    """Lines over time: x labels are the periods (say_date words), one line per series."""
    many = len(x_labels) > 8
    chart = pygal.Line(
        **_config(
            title,
            standalone,
            dots_size=2 if many else 3,
            show_minor_x_labels=not many,
            x_labels_major_count=6 if many else None,
            x_label_rotation=30 if many else 0,
            fill=False,
            allow_interruptions=True,
        )
    )
    return _draw(chart, title, standalone, x_labels, series)


def bar_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    horizontal: bool = False,
    standalone: bool = False,
) -> Markup:
    """Bars: one group per x label (a merchant, a stage, an organisation), a bar per series.
    Horizontal bars read better for long names (a ranking) and on a phone."""
    if not horizontal:
        chart = pygal.Bar(**_config(title, standalone))
        return _draw(chart, title, standalone, x_labels, series)
    bars = len(x_labels) * max(1, len(series))
    height = max(240, 90 + 26 * bars + 12 * len(x_labels))
    # pygal draws the first label at the bottom: reversed, the list reads from the top.
    labels = [_cut(label) for label in reversed(x_labels)]
    series = [Series(one.name, tuple(reversed(one.values))) for one in series]
    chart = pygal.HorizontalBar(
        **_config(title, standalone, height=height, margin_left=_left_margin(labels))
    )
    return _draw(chart, title, standalone, labels, series)


def _cut(label: str) -> str:
    return label if len(label) <= TRUNCATE else label[: TRUNCATE - 1] + "…"


def _wide(text: str) -> int:
    return sum(1 for c in text if unicodedata.east_asian_width(c) in ("W", "F"))


def _left_margin(labels: Sequence[str]) -> int:
    """Room for the labels beside horizontal bars: pygal reckons 0.6 em a character, a
    Chinese character takes a whole em."""
    wide = max((_wide(label) for label in labels), default=0)
    return MARGIN + int(0.45 * STYLE.major_label_font_size * wide)


def _page_css_of(svg_css: str) -> str:
    return _PREFIX.sub(
        lambda m: f".{CHART_CLASS}" + (" " if m.group(0).endswith(" ") else ""), svg_css
    )


@cache
def chart_css() -> str:
    """The stylesheet of page charts (served as /static/charts.css): pygal's own rules for
    STYLE and MAX_SERIES colours, scoped to `.pygal-chart`, plus the page's layout."""
    captured: list[str] = []

    def keep_style(root: Any) -> Any:
        for element in root.iter():
            if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] == "style":
                captured.append(element.text or "")
        return root

    for kind in (pygal.Line, pygal.Bar, pygal.HorizontalBar):
        chart = kind(
            style=STYLE,
            js=[],
            disable_xml_declaration=True,
            pretty_print=False,
        )
        chart.add_xml_filter(keep_style)
        chart.x_labels = ["a"]
        for n in range(MAX_SERIES):
            chart.add(str(n), [n])
        chart.render(is_unicode=True)
    rules: list[str] = []
    for text in captured:
        for rule in _page_css_of(text).replace("}", "}\n").splitlines():
            if rule.strip() and rule not in rules:
                rules.append(rule)
    layout = [
        "/* Generated by `python -m mediation.charts`: do not edit by hand. */",
        f"svg.{CHART_CLASS} {{ display:block; width:100%; height:auto; max-width:100%; }}",
        f".{CHART_CLASS} .tooltip {{ display:none; }}",
    ]
    return "\n".join(layout + rules) + "\n"


if __name__ == "__main__":  # pragma: no cover - writes the stylesheet
    sys.stdout.write(chart_css())
