"""Print setup shared by every sheet a person prints: A4, fit to one page wide, header rows repeated
on each page, page numbers in the footer, margins that leave room to punch and file."""

from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

from qc.reports.labels import FOOTER

A4 = 9  # Excel's paper code for A4


def print_setup(
    sheet: Worksheet,
    title: str,
    month: str,
    *,
    landscape: bool = True,
    repeat_rows: tuple[int, int] | None = None,
    one_page: bool = False,
) -> None:
    """A4 in ``landscape`` (wide tables) or portrait, one page wide (``one_page``: and one tall),
    ``repeat_rows`` (first, last; zero-based) printed at the top of every page, and a footer with
    the report's title and month, 第 N / M 页 and the sheet's name (&A: no data from outside in it)."""
    sheet.set_paper(A4)
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 1 if one_page else 0)
    if repeat_rows is not None:
        sheet.repeat_rows(*repeat_rows)
    sheet.set_margins(left=0.5, right=0.4, top=0.6, bottom=0.7)
    safe_title = f"{title} {month}".replace("&", "&&")
    sheet.set_footer(FOOTER.format(title=safe_title, month="").replace("  ", " "), {"margin": 0.3})
    sheet.center_horizontally()
