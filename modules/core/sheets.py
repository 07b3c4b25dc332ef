"""Helpers shared by the exports: XLSX sheet names, and a CSV writer safe against formula injection."""

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
