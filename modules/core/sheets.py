"""Helpers shared by the XLSX exports."""

#: Characters Excel (and xlsxwriter) refuse in a worksheet name.
_FORBIDDEN = set("[]:*?/\\'")


def sheet_name(title: str) -> str:
    """A worksheet name Excel accepts: forbidden characters dropped, at most 31 characters, never empty."""
    return "".join(c for c in title if c not in _FORBIDDEN)[:31].strip() or "Export"
