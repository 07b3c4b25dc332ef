"""Helpers shared by the exports: XLSX sheet names, cells written with their type, and a CSV writer safe
against formula injection.

In XLSX, dates are written as Excel dates (shown "21 November 2026"), times as Excel date-times in London time,
whole and decimal numbers as numbers; everything else as a string, so no cell is ever a formula or a link,
whatever it starts with.
"""

from datetime import UTC, date, datetime

from modules.core.timeutil import LONDON

#: Characters Excel (and xlsxwriter) refuse in a worksheet name.
_FORBIDDEN = set("[]:*?/\\'")


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: forbidden characters dropped, at most 31 characters, never empty."""
    return "".join(c for c in title if c not in _FORBIDDEN)[:31].strip() or "Export"


#: What a spreadsheet may read as the start of a formula beyond defusedcsv's = + - @ | %: OWASP lists a leading
#: tab and carriage return too, which defusedcsv passes through.
_LEADING = ("\t", "\r")


def defuse(value):
    """A cell that begins with a tab or CR gets the apostrophe defusedcsv gives "=…" cells; others unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(_LEADING) else value


class _DefusedWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([defuse(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(out):
    """defusedcsv's writer, with cells that begin with a tab or CR defused as well (see `defuse`)."""
    from defusedcsv import csv

    return _DefusedWriter(csv.writer(out))


DATE_FORMAT = "d mmmm yyyy"
DATETIME_FORMAT = "d mmmm yyyy, h:mm am/pm"
#: Options for every workbook: strings stay strings (never formulas, links or numbers).
SAFE_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                "strings_to_numbers": False}


class TypedWriter:
    """Writes cells of one workbook by the Python type of each value (date, datetime, number, text)."""

    def __init__(self, book):
        self.date = book.add_format({"num_format": DATE_FORMAT, "align": "left"})
        self.datetime = book.add_format({"num_format": DATETIME_FORMAT, "align": "left"})

    def write(self, sheet, row: int, col: int, value) -> int:
        """Write one value as its type; returns the width it needs (for column sizing)."""
        if value is None or value == "":
            sheet.write_blank(row, col, None)
            return 0
        if isinstance(value, datetime):  # stored as naive UTC; a spreadsheet shows London time
            local = value.replace(tzinfo=UTC).astimezone(LONDON).replace(tzinfo=None)
            sheet.write_datetime(row, col, local, self.datetime)
            return 26
        if isinstance(value, date):
            sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), self.date)
            return 18
        if isinstance(value, int | float) and not isinstance(value, bool):
            sheet.write_number(row, col, value)
            return len(str(value))
        text = str(value)
        sheet.write_string(row, col, text)
        return len(text)


def workbook(title: str, headers: list[str], rows: list[list]) -> bytes:
    """An XLSX workbook of one sheet: bold headers, then the rows with typed cells, sized columns, frozen header."""
    import io

    import xlsxwriter  # only exports need it

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, SAFE_OPTIONS)
    sheet = book.add_worksheet(sheet_name(title))
    bold = book.add_format({"bold": True})
    writer = TypedWriter(book)
    widths = [len(h) for h in headers]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, bold)
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            width = writer.write(sheet, r, col, value)
            if col < len(widths):
                widths[col] = max(widths[col], width)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(max(width + 1, 10), 60))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
