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
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=13,
    no_data_font_size=24,
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


def _config(title: str, standalone: bool, **options: Any) -> dict[str, Any]:
    return {
        "title": title,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "explicit_size": standalone,
        "width": 800,
        "height": 420,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "truncate_legend": 30,
        "truncate_label": 16,
        "print_values": False,
        "show_minor_x_labels": True,
        "x_label_rotation": 0,
        "margin": 12,
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
    many = len(x_labels) > 14
    chart = pygal.Line(
        **_config(
            title,
            standalone,
            dots_size=2 if many else 3,
            show_minor_x_labels=not many,
            x_labels_major_count=8 if many else None,
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
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    height = max(260, 60 + 34 * len(x_labels) * max(1, len(series))) if horizontal else 420
    chart = kind(**_config(title, standalone, height=height, truncate_label=24))
    return _draw(chart, title, standalone, x_labels, series)


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
