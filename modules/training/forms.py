"""Training forms."""

from flask_wtf import FlaskForm


class MarkReadForm(FlaskForm):
    """A button with a CSRF token; it has no other fields."""
