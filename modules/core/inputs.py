"""Checks every boundary shares: ids from URLs, single-line text, and where `next=` may lead."""

import re

from werkzeug.routing import IntegerConverter
from wtforms.validators import ValidationError

#: The largest id the id columns hold: every primary key is an Integer, which is a 32-bit `integer` on
#: PostgreSQL (a larger value is a DataError there, a 500); SQLite's would take more, but ids never get there.
MAX_ID = 2**31 - 1
_ID_RE = re.compile(r"[0-9]{1,10}")
#: C0 controls (CR, LF, tab …), DEL and C1 controls, plus the Unicode line and paragraph separators.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SINGLE_LINE_MESSAGE = "must be on one line, without line breaks, tabs or other control characters"


def parse_id(raw: str | None) -> int | None:
    """A database id from text (ASCII digits, 1 to MAX_ID), else None: never raises."""
    if raw is None or not _ID_RE.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


class IdConverter(IntegerConverter):
    """`<int:…>` in routes: ASCII digits no larger than a database id, so a 25-digit id is a 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def one_line(text: str) -> str:
    """The text on one line: every run of whitespace or control characters becomes one space."""
    return " ".join(_CONTROL_RE.sub(" ", text or "").split())


def has_control_characters(text: str | None) -> bool:
    """Whether text holds a line break, tab or any other control character."""
    return bool(text) and _CONTROL_RE.search(text) is not None


class SingleLine:
    """WTForms validator for every single-line field: no CR/LF, tab or other control character."""

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field):
        """Raise ValidationError when the field's text has a control character."""
        if isinstance(field.data, str) and has_control_characters(field.data):
            raise ValidationError(self.message or f"{field.label.text} {SINGLE_LINE_MESSAGE}")


def safe_next(target: str | None) -> str | None:
    """The target if it is a plain local path ("/…", not "//", no backslash or control character), else None."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or _CONTROL_RE.search(target) or " " in target:
        return None
    return target
