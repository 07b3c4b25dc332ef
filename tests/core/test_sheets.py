"""CSV exports defuse formula-like cells: defusedcsv's = + - @ | %, and a leading tab or CR as well (OWASP),
which defusedcsv passes through (found by scripts/assurance.py)."""

import csv
import io

from modules.access.exports import to_csv as register_csv
from modules.core.sheets import csv_writer
from modules.tracking.exports import Table, to_csv


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")) for cell in row]


def test_a_leading_tab_or_cr_is_defused_like_an_equals_sign():
    out = io.StringIO()
    csv_writer(out).writerows([["\t=HYPERLINK(1)", "\r=1+1", "=1+1", "fine", 3]])
    assert _cells(out.getvalue()) == ["'\t=HYPERLINK(1)", "'\r=1+1", "'=1+1", "fine", "3"]


def test_the_exports_use_it():
    tracking = to_csv(Table(title="People", headers=["Name"], rows=[["\t=ppf()"]])).decode("utf-8")
    assert _cells(tracking)[1] == "'\t=ppf()"
    assert _cells(register_csv(["Name"], [["\r=ppf()"]]))[1] == "'\r=ppf()"
