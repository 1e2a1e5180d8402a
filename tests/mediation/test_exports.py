"""Downloads of the dashboard's tables (mediation/exports.py): CSV opens in Excel (BOM,
CRLF), XLSX reads back with the same numbers, and no cell can run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import load_workbook

from mediation.exports import Table, filename, to_csv, to_xlsx

TABLE = Table(
    title="按商户排名",
    headings=("商户", "案件数", "增长"),
    rows=(("甲旅行社", 12, 0.5), ('=HYPERLINK("x")', 7, None), ("乙", None, -0.25)),
    note="少于5件的数字不显示。",
)


def test_csv_has_the_bom_the_headings_and_the_rows() -> None:
    data = to_csv(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["商户", "案件数", "增长"],
        ["甲旅行社", "12", "0.5"],
        ['\'=HYPERLINK("x")', "7", ""],
        ["乙", "", "-0.25"],
    ]


def test_xlsx_reads_back_with_numbers_as_numbers() -> None:
    other = Table(title="按商户排名", headings=("a",), rows=((1,),))
    book = load_workbook(io.BytesIO(to_xlsx([TABLE, other])))
    assert len(book.sheetnames) == 2 and book.sheetnames[0] != book.sheetnames[1]
    sheet = book[book.sheetnames[0]]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][0] == "按商户排名"
    assert values[1] == ["商户", "案件数", "增长"]
    assert values[2] == ["甲旅行社", 12, 0.5]
    assert values[3][0] == '\'=HYPERLINK("x")'
    assert values[3][1] == 7 and values[3][2] in (None, "")
    assert values[-1][0] == "少于5件的数字不显示。"


def test_an_empty_workbook_is_still_a_workbook() -> None:
    assert load_workbook(io.BytesIO(to_xlsx([]))).sheetnames == ["Sheet"]


def test_file_names_are_ascii() -> None:
    assert filename("ranking", date(2026, 12, 4), "csv") == "ranking-2026-12-04.csv"
    assert filename("按商户", date(2026, 12, 4), "xlsx") == "figures-2026-12-04.xlsx"
