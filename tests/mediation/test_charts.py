"""Charts (mediation/charts.py): a page chart keeps to the CSP (no <style>, <script> or style
attribute), names itself for assistive technology and escapes its words; the PDF chart
carries its own stylesheet; the served stylesheet is the one the module makes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from mediation.charts import (
    CHART_CLASS,
    Series,
    bar_chart,
    chart_css,
    count_ticks,
    line_chart,
)

STATIC = Path(__file__).resolve().parents[2] / "templates" / "static" / "charts.css"
REFUSED = re.compile(r"<style|<script|\sstyle=|\son[a-z]+=|<!--", re.IGNORECASE)


def _charts(standalone: bool) -> list[str]:
    days = ["12月1日", "12月2日", "12月3日"]
    return [
        str(line_chart("每日立案", days, [Series("全部", (1, 2, None))], standalone=standalone)),
        str(
            bar_chart(
                "商户排名",
                ["甲商户", "乙商户"],
                [Series("本期", (5, 3)), Series("上期", (2, 4))],
                horizontal=True,
                standalone=standalone,
            )
        ),
        str(bar_chart("办理环节", ["已立案"], [Series("案件", (7,))], standalone=standalone)),
        str(line_chart("空", [], [], standalone=standalone)),
    ]


@pytest.mark.parametrize("svg", _charts(standalone=False))
def test_a_page_chart_has_nothing_the_csp_refuses_and_is_named(svg: str) -> None:
    assert REFUSED.search(svg) is None, REFUSED.search(svg)
    root = etree.fromstring(svg.encode())
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert CHART_CLASS in root.get("class", "").split()
    assert root.get("width") is None  # it fills its box (phone and desktop alike)


@pytest.mark.parametrize("svg", _charts(standalone=True))
def test_a_pdf_chart_has_its_stylesheet_and_a_size_but_no_script(svg: str) -> None:
    assert "<style" in svg and "<script" not in svg
    root = etree.fromstring(svg.encode())
    assert root.get("width") == "600"


def test_words_in_a_chart_are_escaped() -> None:
    svg = str(bar_chart("<b>排名</b>", ["<script>alert(1)</script>"], [Series("a&b", (1,))]))
    assert "<script>" not in svg and "<b>" not in svg
    etree.fromstring(svg.encode())  # still well-formed


def test_the_stylesheet_served_is_the_one_the_module_makes() -> None:
    assert STATIC.read_text(encoding="utf-8") == chart_css(), (
        "run: python -m mediation.charts > templates/static/charts.css"
    )
    assert "#chart-" not in chart_css()
    assert ".pygal-chart .color-0" in chart_css()


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ((), [0, 1]),
        ((0,), [0, 1]),
        ((3,), [0, 1, 2, 3]),
        ((6,), [0, 1, 2, 3, 4, 5, 6]),
        ((7,), [0, 2, 4, 6, 8]),
        ((45,), [0, 10, 20, 30, 40, 50]),
        ((1234,), [0, 250, 500, 750, 1000, 1250]),
    ],
)
def test_count_ticks_are_whole_numbers(values: tuple[int, ...], ticks: list[int]) -> None:
    assert count_ticks([Series("x", values)]) == ticks


def test_importing_charts_leaves_optional_imports_quiet() -> None:
    import importlib
    import sys
    import warnings

    assert not any(type(f).__name__ == "PluginImportFixer" for f in sys.meta_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImportError):
            importlib.import_module("no_such_module_for_the_charts_test")


def test_horizontal_bars_read_from_the_top_with_room_for_chinese_names() -> None:
    names = ["上海某某国际旅行社有限公司", "乙"]
    svg = str(bar_chart("排名", names, [Series("案件", (9, 3))], horizontal=True))
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    # The first name (the largest) is drawn last by pygal, so at the top; each is cut to
    # twelve characters (the table beside the chart has the whole name).
    ours = [label for label in labels if label in ("上海某某国际旅行社有限…", "乙")]
    assert ours == ["乙", "上海某某国际旅行社有限…"]
