"""The quiz form: one GOV.UK radios or checkboxes field per drawn question, built for the attempt; and the forms
for writing and reviewing a draft version's quiz."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput

from modules.assessments import types
from modules.assessments.models import QuizAttempt
from modules.assessments.services import field_name
from modules.assessments.types import LETTER_IDS
from modules.core.inputs import SingleLine

#: Longest text an author may give in one field.
TEXT_MAX = 4000


class MultiCheckboxField(SelectMultipleField):
    """Several options, shown as GOV.UK checkboxes."""

    widget = GovCheckboxesInput()
    option_widget = CheckboxInput()


class StartQuizForm(FlaskForm):
    """A button with a CSRF token; it has no other fields."""


def quiz_form(attempt: QuizAttempt) -> FlaskForm:
    """A form whose fields are the attempt's questions, options in the attempt's shuffled order, filled in with
    the answers saved so far (a draft) when nothing is posted."""

    class QuizForm(FlaskForm):
        pass

    saved = {}

    for item in attempt.items:
        question = item.question
        texts = {o["id"]: o["text"] for o in question.options}
        choices = [SelectChoice(option_id, texts[option_id]) for option_id in item.option_order]
        if types.get(question.type).many:
            field = MultiCheckboxField(question.stem, choices=choices, validators=[
                InputRequired(f"Select at least one answer to question {item.position}")])
        else:
            field = RadioField(question.stem, choices=choices, widget=GovRadioInput(), validators=[
                InputRequired(f"Select an answer to question {item.position}")])
        setattr(QuizForm, field_name(item), field)
        if item.chosen:
            saved[field_name(item)] = list(item.chosen) if types.get(question.type).many else item.chosen[0]
    return QuizForm(data=saved)


# --------------------------------------------------------------------------- writing the quiz (policies:manage)

#: The option slots an author fills in for a one-answer or several-answer question.
SLOTS = LETTER_IDS
QUESTION_TYPES = [SelectChoice("single", "One right answer"),
                  SelectChoice("multiple", "Several right answers (select all that apply)"),
                  SelectChoice("true_false", "True or false")]


def _area(label: str, *validators, hint: str | None = None, rows: int = 3) -> TextAreaField:
    return TextAreaField(label, widget=GovTextArea(), validators=[*validators, Length(max=TEXT_MAX)],
                         render_kw={"rows": rows}, description=hint or "")


class QuestionForm(FlaskForm):
    """One scenario question: its type, the scenario, the options with their feedback, the answer, and the clauses
    (with a quote from them) that decide it. The clause choices are the version's, set by the view."""

    type = RadioField("Type of question", widget=GovRadioInput(), choices=QUESTION_TYPES,
                      validators=[InputRequired("Choose the type of question")])
    stem = _area("Scenario and question", InputRequired("Enter the scenario and question"), rows=4,
                 hint="For example: A pupil sends a friend request to your personal account. What should you do?")
    text_a = StringField("Option A", widget=GovTextInput(), validators=[Optional(), SingleLine(), Length(max=TEXT_MAX)])
    feedback_a = _area("Feedback for option A", Optional(), rows=2)
    text_b = StringField("Option B", widget=GovTextInput(), validators=[Optional(), SingleLine(), Length(max=TEXT_MAX)])
    feedback_b = _area("Feedback for option B", Optional(), rows=2)
    text_c = StringField("Option C", widget=GovTextInput(), validators=[Optional(), SingleLine(), Length(max=TEXT_MAX)])
    feedback_c = _area("Feedback for option C", Optional(), rows=2)
    text_d = StringField("Option D (optional)", widget=GovTextInput(), validators=[Optional(), SingleLine(), Length(max=TEXT_MAX)])
    feedback_d = _area("Feedback for option D", Optional(), rows=2)
    text_e = StringField("Option E (optional)", widget=GovTextInput(), validators=[Optional(), SingleLine(), Length(max=TEXT_MAX)])
    feedback_e = _area("Feedback for option E", Optional(), rows=2)
    correct = MultiCheckboxField("Right options", choices=[SelectChoice(s, s.upper()) for s in SLOTS],
                                 validators=[Optional()],
                                 description="For a question with one or several right answers")
    tf_correct = RadioField("The right answer", widget=GovRadioInput(),
                            choices=[SelectChoice("true", "True"), SelectChoice("false", "False")], validators=[Optional()],
                            description="For a true or false question")
    tf_feedback_true = _area("Feedback for answering True", Optional(), rows=2)
    tf_feedback_false = _area("Feedback for answering False", Optional(), rows=2)
    explanation = _area("Why the right answer is right", InputRequired(
        "Enter why the right answer is right, naming the clause"), hint="Name the clause, for example: 3.3.1 says …")
    clauses = MultiCheckboxField("Clauses that decide the answer", choices=[],
                                 validators=[InputRequired("Choose the clauses that decide the answer")])
    quote = _area("Words quoted from one of those clauses", InputRequired(
        "Enter words quoted from one of the clauses you cite"), rows=2,
        hint="Copied exactly from the policy: it is checked against the clause text")
    submit = SubmitField("Save question", widget=GovSubmitInput())

    def question_input(self):
        """The question as the author gave it (options lettered in order); AuthoringError names the field."""
        from modules.assessments.authoring import AuthoringError, QuestionInput

        kind = self.type.data
        if kind == "true_false":
            if self.tf_correct.data not in ("true", "false"):
                raise AuthoringError("Choose whether True or False is the right answer", field="tf_correct")
            options = []
            for value, label in (("true", "True"), ("false", "False")):
                feedback = (getattr(self, f"tf_feedback_{value}").data or "").strip()
                if not feedback:
                    raise AuthoringError(f"Enter the feedback for answering {label}", field=f"tf_feedback_{value}")
                options.append({"id": value, "text": label, "feedback": feedback})
            correct = [self.tf_correct.data]
        else:
            options, correct, letters = [], [], iter(SLOTS)
            chosen = set(self.correct.data or [])
            for slot in SLOTS:
                text = (getattr(self, f"text_{slot}").data or "").strip()
                feedback = (getattr(self, f"feedback_{slot}").data or "").strip()
                if not text:
                    if feedback or slot in chosen:
                        raise AuthoringError(f"Enter the text of option {slot.upper()}", field=f"text_{slot}")
                    continue
                if not feedback:
                    raise AuthoringError(f"Enter the feedback for option {slot.upper()}: say why it is right or "
                                         "wrong, naming the clause", field=f"feedback_{slot}")
                letter = next(letters)
                options.append({"id": letter, "text": text, "feedback": feedback})
                if slot in chosen:
                    correct.append(letter)
            if len(options) < 3:
                raise AuthoringError("Give at least three options (A, B and C)", field="text_c"
                                     if options else "text_a")
            if not correct:
                raise AuthoringError("Choose the right option", field="correct")
        return QuestionInput(type=kind, stem=self.stem.data or "", options=options, correct=correct,
                             explanation=self.explanation.data or "", quote=self.quote.data or "",
                             clauses=list(self.clauses.data or []))

    def fill_from(self, question) -> None:
        """Show a stored question in the form, for changing it."""
        self.type.data, self.stem.data = question.type, question.stem
        self.explanation.data, self.quote.data = question.explanation, question.quote
        self.clauses.data = list(question.clause_refs)
        if question.type == "true_false":
            for option in question.options:
                getattr(self, f"tf_feedback_{option['id']}").data = option["feedback"]
            self.tf_correct.data = question.correct[0]
        else:
            for slot, option in zip(SLOTS, question.options, strict=False):
                getattr(self, f"text_{slot}").data = option["text"]
                getattr(self, f"feedback_{slot}").data = option["feedback"]
            self.correct.data = [SLOTS[i] for i, o in enumerate(question.options) if o["id"] in question.correct]


class ExcludeClauseForm(FlaskForm):
    """Leave a must / must-not clause out of the quiz, with the reason (the clause choices are set by the view)."""

    clause = SelectField("Clause", widget=GovSelect(), choices=[],
                         validators=[InputRequired("Choose the clause to leave out")])
    reason = _area("Why is it not examined?", InputRequired("Enter why this clause is not examined"), rows=2,
                   hint="For example: it is about the trust's own duties, not something staff do")
    submit = SubmitField("Leave this clause out of the quiz", widget=GovSubmitInput())


class ImportBankForm(FlaskForm):
    """A bank file to replace the version's quiz."""

    file = FileField("Quiz bank file (YAML)", widget=GovFileInput(),
                     validators=[FileRequired("Choose the quiz bank file to import")])
    submit = SubmitField("Import the file", widget=GovSubmitInput())


class ButtonForm(FlaskForm):
    """A one-button form: only the CSRF token (what it acts on is in the URL)."""
