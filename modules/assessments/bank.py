"""Read and check quiz banks. Pure: no database, no Flask.

Every problem is reported as `file:line: reason`, with the line taken from the YAML node it concerns, so
a bank author can go straight to it. `read_bank` checks a file on its own (YAML, schema, question types,
unique ids); `match_versions` checks it against the clauses of a trust's policy versions.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, SequenceNode

from modules.assessments import types
from modules.assessments.schema import bank_schema


@cache
def _validator():
    """The bank schema's validator (jsonschema is imported here: only commands that read banks need it)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(bank_schema())


#: Curly and other typographic quote marks, mapped to their plain forms before quotes are compared.
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'",
                         "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'})

#: A path into the document, e.g. ("questions", 3, "options", 1, "id").
Path_ = tuple


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a bank, at a line of a file."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class BankError(ValueError):
    """A bank cannot be loaded; str() lists every problem as file:line: reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class BankQuestion:
    """One question as the bank states it, with the line it starts on."""

    id: str
    section: str
    clauses: tuple[str, ...]
    type: str
    stem: str
    options: tuple[dict, ...]
    correct: tuple[str, ...]
    explanation: str
    quote: str
    reviewed: bool
    ambiguous: bool = False
    note: str = ""
    #: The policy says nothing on the scenario: the keyed answer says so and names the policy's own fallback.
    silent: bool = False
    core_id: str | None = None
    line: int = 0
    #: Lines of its fields, e.g. {"clauses": 14, "quote": 30}, for pointing at the right one.
    lines: Mapping[str, int] = field(default_factory=dict, compare=False)

    @property
    def drawable(self) -> bool:
        """Whether it may reach staff: reviewed and unambiguous."""
        return self.reviewed and not self.ambiguous

    def content(self) -> dict:
        """Everything that makes up the question (not where it sits in the file)."""
        content = {"id": self.id, "core_id": self.core_id, "section": self.section, "clauses": list(self.clauses),
                   "type": self.type, "stem": self.stem, "options": [dict(o) for o in self.options],
                   "correct": list(self.correct), "explanation": self.explanation, "quote": self.quote,
                   "reviewed": self.reviewed, "ambiguous": self.ambiguous, "note": self.note}
        if self.silent:  # only when set, so adding the field left every other question's fingerprint alone
            content["silent"] = True
        return content

    def content_sha256(self) -> str:
        """A fingerprint of the content, to tell changed questions from unchanged ones on re-sync."""
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def line_of(self, name: str) -> int:
        """The line of one of its fields, else the question's own line."""
        return self.lines.get(name, self.line)


@dataclass(frozen=True)
class Exclusion:
    """A must / must-not clause the bank deliberately does not examine, with the reason."""

    clause: str
    reason: str
    line: int = 0


@dataclass
class Bank:
    """A checked bank: the trust it is for, its questions in file order and the clauses it leaves out."""

    file: str
    trust: str
    questions: list[BankQuestion]
    not_examined: list[Exclusion] = field(default_factory=list)

    def exclusions(self) -> dict[str, str]:
        """The clauses deliberately not examined, ref → reason."""
        return {e.clause: e.reason for e in self.not_examined}


@dataclass(frozen=True)
class VersionText:
    """What `match_versions` needs of a policy version: its section numbers and clause texts by ref."""

    key: int
    label: str
    sections: frozenset[str]
    clauses: Mapping[str, str]


def normalise(text: str) -> str:
    """Text for quote matching: typographic quotes made plain and whitespace collapsed."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


# --------------------------------------------------------------------------- YAML with line numbers

def _to_python(node, path: Path_, lines: dict, problems: list, file: str, constructor: SafeConstructor):
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _to_python(key_node, path + ("<key>",), {}, problems, file, constructor)
            if not isinstance(key, str | int | bool | float):
                problems.append(Problem(file, key_node.start_mark.line + 1, "keys must be plain words"))
                continue
            if key in out:
                problems.append(Problem(file, key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _to_python(value_node, path + (key,), lines, problems, file, constructor)
        return out
    if isinstance(node, SequenceNode):
        return [_to_python(item, path + (i,), lines, problems, file, constructor) for i, item in enumerate(node.value)]
    try:
        return constructor.construct_object(node, deep=True)
    except ConstructorError as exc:
        problems.append(Problem(file, node.start_mark.line + 1, f"cannot read value: {exc.problem}"))
        return None


def load_yaml(text: str, file: str) -> tuple[object, dict[Path_, int]]:
    """Parse YAML into plain data plus the line of every path in it; raise BankError on bad YAML."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BankError([Problem(file, mark.line + 1 if mark else 1, f"not valid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise BankError([Problem(file, 1, f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    if node is None:
        raise BankError([Problem(file, 1, "the file is empty")])
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    data = _to_python(node, (), lines, problems, file, SafeConstructor())
    if problems:
        raise BankError(problems)
    return data, lines


# --------------------------------------------------------------------------- schema and bank rules

def _where(path: Iterable, data) -> str:
    """A readable location, e.g. 'question tkat-x, options[1].id'."""
    path = list(path)
    if len(path) >= 2 and path[0] == "questions" and isinstance(path[1], int):
        qid = None
        try:
            qid = data["questions"][path[1]].get("id")
        except (AttributeError, IndexError, KeyError, TypeError):
            pass
        head = f"question {qid}" if isinstance(qid, str) else f"questions[{path[1]}]"
        rest = path[2:]
    else:
        head, rest = "", path
    tail = ""
    for part in rest:
        tail += f"[{part}]" if isinstance(part, int) else (f".{part}" if tail else str(part))
    return ", ".join(p for p in (head, tail) if p)


def _line(lines: dict, path: Iterable) -> int:
    path = tuple(path)
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def _schema_message(error) -> str:
    if error.validator in ("pattern", "minLength") and error.schema.get("pattern") == r"\S":
        return "must not be empty"
    if error.validator == "required" and "then" in error.schema_path:
        return "an ambiguous question needs a note saying what is ambiguous and why"
    return error.message


def _schema_problems(data, lines: dict, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: (_line(lines, e.absolute_path), e.message)):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})), key=str)
            for key in extra:
                problems.append(Problem(file, _line(lines, path + [key]),
                                        f"{_where(path + [key], data)}: unknown field {key!r}"))
            continue
        where = _where(path, data)
        problem = Problem(file, _line(lines, path), f"{where}: {_schema_message(error)}" if where
                          else _schema_message(error))
        if problem not in problems:  # minLength and pattern can both object to an empty string
            problems.append(problem)
    return problems


def parse_bank(text: str, file: str, expected_trust: str | None = None) -> Bank:
    """Check a bank's text on its own (YAML, schema, question types, unique ids) and return it."""
    data, lines = load_yaml(text, file)
    problems = _schema_problems(data, lines, file)
    if problems:
        raise BankError(problems)
    if expected_trust is not None and data["trust"] != expected_trust:
        problems.append(Problem(file, _line(lines, ["trust"]),
                                f"trust is {data['trust']!r} but the file is for {expected_trust!r}"))
    questions, seen, seen_core = [], {}, {}
    for index, raw in enumerate(data["questions"]):
        path = ("questions", index)
        qlines = {key: lines[path + (key,)] for key in raw if path + (key,) in lines}
        question = BankQuestion(
            id=raw["id"], core_id=raw.get("core_id"), section=raw["section"], clauses=tuple(raw["clauses"]),
            type=raw["type"], stem=raw["stem"].strip(),
            options=tuple({"id": o["id"], "text": o["text"].strip(), "feedback": o["feedback"].strip()}
                          for o in raw["options"]),
            correct=tuple(raw["correct"]), explanation=raw["explanation"].strip(), quote=raw["quote"],
            reviewed=raw["reviewed"], ambiguous=raw.get("ambiguous", False), note=raw.get("note", "").strip(),
            silent=raw.get("silent", False), line=lines[path], lines=qlines)
        if question.id in seen:
            problems.append(Problem(file, question.line_of("id"),
                                    f"question {question.id}: duplicate id (first used on line {seen[question.id]})"))
        seen.setdefault(question.id, question.line)
        if question.core_id:
            if question.core_id in seen_core:
                problems.append(Problem(file, question.line_of("core_id"),
                                        f"question {question.id}: core_id {question.core_id} is already used on "
                                        f"line {seen_core[question.core_id]}"))
            seen_core.setdefault(question.core_id, question.line)
        for name, reason in types.get(question.type).check([o["id"] for o in question.options],
                                                           list(question.correct)):
            problems.append(Problem(file, question.line_of(name), f"question {question.id}: {reason}"))
        questions.append(question)
    exclusions, excluded_at = [], {}
    for index, raw in enumerate(data.get("not_examined", [])):
        exclusion = Exclusion(clause=raw["clause"], reason=raw["reason"].strip(),
                              line=lines[("not_examined", index)])
        if exclusion.clause in excluded_at:
            problems.append(Problem(file, exclusion.line, f"not_examined: clause {exclusion.clause} is already "
                                                          f"listed on line {excluded_at[exclusion.clause]}"))
        excluded_at.setdefault(exclusion.clause, exclusion.line)
        exclusions.append(exclusion)
    for question in questions:
        cited = [ref for ref in question.clauses if ref in excluded_at] if question.drawable else []
        for ref in cited:
            problems.append(Problem(file, question.line_of("clauses"),
                                    f"question {question.id} examines clause {ref}, which not_examined (line "
                                    f"{excluded_at[ref]}) says is not examined: remove one of them"))
    if problems:
        raise BankError(problems)
    return Bank(file=file, trust=data["trust"], questions=questions, not_examined=exclusions)


def read_bank(path: Path, display: str | None = None) -> Bank:
    """Read and check one bank file; its trust must match the file name (quizzes/<slug>.yaml)."""
    file = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankError([Problem(file, 1, f"cannot read the file: {exc}")]) from exc
    return parse_bank(text, file, expected_trust=path.stem)


# --------------------------------------------------------------------------- against the policy's clauses

def quote_found(quote: str, texts: Iterable[str]) -> bool:
    """Whether the quotation appears in one of the texts, after normalising whitespace and quotes."""
    wanted = normalise(quote)
    return any(wanted in normalise(t) for t in texts)


def match_versions(bank: Bank, versions: list[VersionText], trust_label: str | None = None) -> dict[str, list[int]]:
    """For each question, the keys of the versions it applies to; BankError if one applies to none.

    A question applies to a version that contains every clause it cites and its section, and in which
    its quote is found in one of the cited clauses' text.
    """
    who = trust_label or bank.trust
    problems, applies = [], {}
    for q in bank.questions:
        with_clauses = [v for v in versions if all(ref in v.clauses for ref in q.clauses)]
        if not with_clauses:
            missing = [ref for ref in q.clauses if not any(ref in v.clauses for v in versions)]
            if not versions:
                reason = f"{who} has no policy versions to check clauses {', '.join(q.clauses)} against"
            elif missing:
                reason = (f"clause{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                          f"{'are' if len(missing) > 1 else 'is'} in none of {who}'s policy versions")
            else:
                reason = f"no version of {who}'s policy has all of clauses {', '.join(q.clauses)}"
            problems.append(Problem(bank.file, q.line_of("clauses"), f"question {q.id}: {reason}"))
            continue
        with_section = [v for v in with_clauses if q.section in v.sections]
        if not with_section:
            problems.append(Problem(bank.file, q.line_of("section"),
                                    f"question {q.id}: section {q.section!r} is not a section of the versions "
                                    f"that have its clauses"))
            continue
        quoted = [v for v in with_section if quote_found(q.quote, (v.clauses[ref] for ref in q.clauses))]
        if not quoted:
            problems.append(Problem(bank.file, q.line_of("quote"),
                                    f"question {q.id}: quote not found in the text of clause "
                                    f"{', '.join(q.clauses)}: {q.quote!r}"))
            continue
        applies[q.id] = [v.key for v in quoted]
    for exclusion in bank.not_examined:
        if not any(exclusion.clause in v.clauses for v in versions):
            problems.append(Problem(bank.file, exclusion.line,
                                    f"not_examined: clause {exclusion.clause} is in none of {who}'s policy versions"))
    if problems:
        raise BankError(problems)
    return applies
