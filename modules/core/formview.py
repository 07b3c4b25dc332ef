"""The form-view helper every form view uses: validate, call the service, commit once — or show why not.

    outcome = submit(form, lambda: services.revoke_grant(...), refusals=services.AccessError)
    if outcome.done:
        flash(...)
        return redirect(...)
    return render_template(..., form=form), 400

Services add and flush; `submit` is where the view's one commit happens. A refusal the service raises (its
package's error class) rolls the transaction back and is shown on the form: on the field it names
(`exc.field`), else at the top. Any other exception rolls back and propagates, for the view to answer
(a unique-key race, say).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import flash
from flask_wtf import FlaskForm

from modules.core.extensions import db
from modules.core.web import bad_request

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of a submitted form: `done` with the service's `result`, or not (invalid or `refused`)."""

    done: bool
    result: T | None = None
    #: The service's refusal, already shown on the form (None when the form did not validate).
    refused: Exception | None = None


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


def show_refusal(form: FlaskForm, exc: Exception) -> None:
    """Show a service's refusal on the form: on the field it names (`exc.field`), else at the top."""
    message = _message(exc)
    name = getattr(exc, "field", None)
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def show_on(name: str) -> Callable[[FlaskForm, Exception], None]:
    """Show every refusal on the named field (for services whose refusals name no field)."""
    def show(form: FlaskForm, exc: Exception) -> None:
        field = form[name]
        field.errors = [*field.errors, _message(exc)]
    return show


def left_to_view(_form: FlaskForm, _exc: Exception) -> None:
    """Show nothing: the view shows `Outcome.refused` itself (say, above the form, linked to a field)."""


def flash_refusal(_form: FlaskForm, exc: Exception) -> None:
    """Show a service's refusal as a message on the page the view redirects to (for one-button forms)."""
    flash(_message(exc), "info")


def refusal_is_400(_form: FlaskForm, exc: Exception) -> None:
    """Answer a service's refusal with a clear 400 (for forms whose fields the person cannot correct)."""
    raise bad_request(_message(exc)) from exc


def submit(form: FlaskForm, action: Callable[[], T], *,
           refusals: type[Exception] | tuple[type[Exception], ...] = (),
           show: Callable[[FlaskForm, Any], None] = show_refusal,
           validated: bool | None = None) -> Outcome[T]:
    """Validate the form (unless the view already did: `validated`), call `action` and commit once.

    A refusal (an instance of `refusals`) rolls back and is shown on the form with `show`; anything else
    rolls back and propagates. Nothing is called when the form is not valid.
    """
    if not (form.validate_on_submit() if validated is None else validated):
        return Outcome(False)
    try:
        result = action()
        db.session.commit()
    except refusals as exc:
        db.session.rollback()
        show(form, exc)
        return Outcome(False, refused=exc)
    except BaseException:
        db.session.rollback()
        raise
    return Outcome(True, result)
