"""Cells of every exported spreadsheet (Excel and CSV), made safe to open.

Text that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
readers skip before looking for one) is taken for a formula by Excel and LibreOffice: a class
name such as ``=HYPERLINK("http://…","Open")`` would become a live link, or worse, in the
auditor's copy. Such text gets a leading apostrophe (OWASP's advice for CSV injection), so it
is shown, never run. Numbers, dates and other values pass unchanged. Every export writes its
rows through `safe_row`.
"""
from __future__ import annotations

from collections.abc import Iterable

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value``, with an apostrophe before text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_row(values: Iterable) -> list:
    """A row of cells, each through `safe_cell`."""
    return [safe_cell(value) for value in values]
