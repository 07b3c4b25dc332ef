"""Clause-level comparison of two policy versions, and what a change means for re-training. Pure.

`compare(old_sections, new_sections)` takes anything shaped like a parsed policy: sections with a
`number`, a `title` and `clauses`, each clause with a `ref` and a `text` (parser `ParsedSection`s and
database `Section`s both fit). Clauses are matched first by identical text in document order (so a
section inserted in the middle, with everything after it renumbered, still lines up), then the rest by
word similarity with a preference for the same reference, so a renumbered or lightly reworded clause is
never reported as removed and added again.
"""

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

ADDED, REMOVED, REWORDED, RENUMBERED, UNCHANGED = "added", "removed", "reworded", "renumbered", "unchanged"
#: Clause kinds that change what a clause says (renumbering alone does not).
CHANGED_KINDS = frozenset({ADDED, REMOVED, REWORDED})

#: Word similarity (0–1) above which two unmatched clauses are the same clause reworded.
SIMILAR = 0.5
#: A lower bar when the two clauses also share their reference.
SIMILAR_SAME_REF = 0.3

_TOKENS = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]")
_WORDS = re.compile(r"\w+(?:['’]\w+)*")


@dataclass(frozen=True)
class WordChange:
    """A run of words in a reworded clause: kept ("equal"), added ("insert") or taken out ("delete")."""

    op: str
    text: str


@dataclass(frozen=True)
class ClauseChange:
    """One clause of either version and what happened to it."""

    kind: str
    old_ref: str | None
    new_ref: str | None
    old_text: str | None
    new_text: str | None
    #: Word similarity of the old and new text (1.0 when identical, 0.0 when added or removed).
    similarity: float = 0.0
    #: The word-level difference, for reworded clauses only.
    words: tuple[WordChange, ...] = ()

    @property
    def ref(self) -> str:
        """The reference to show: the new one, or the old one for a removed clause."""
        return self.new_ref if self.new_ref is not None else self.old_ref

    @property
    def changed(self) -> bool:
        """Whether what the clause says changed (added, removed or reworded)."""
        return self.kind in CHANGED_KINDS

    @property
    def renumbered(self) -> bool:
        """Whether the clause kept its place in the policy under a different reference."""
        return self.old_ref is not None and self.new_ref is not None and self.old_ref != self.new_ref


@dataclass(frozen=True)
class SectionComparison:
    """A section (a training module) of the new version, or a removed section of the old one."""

    old_number: str | None
    new_number: str | None
    old_title: str | None
    new_title: str | None
    clauses: tuple[ClauseChange, ...]

    @property
    def number(self) -> str:
        """The number to show: the new one, or the old one for a removed section."""
        return self.new_number if self.new_number is not None else self.old_number

    @property
    def title(self) -> str:
        """The title to show: the new one, or the old one for a removed section."""
        return (self.new_title if self.new_number is not None else self.old_title) or ""

    @property
    def kind(self) -> str:
        """added, removed, changed (a clause changed), renumbered (only numbers moved) or unchanged."""
        if self.old_number is None:
            return ADDED
        if self.new_number is None:
            return REMOVED
        if any(c.changed for c in self.clauses):
            return "changed"
        if self.old_number != self.new_number or any(c.kind == RENUMBERED for c in self.clauses):
            return RENUMBERED
        return UNCHANGED

    @property
    def changed(self) -> bool:
        """Whether the module's content changed, so a person must read it again."""
        return self.new_number is not None and self.kind in (ADDED, "changed")

    @property
    def title_changed(self) -> bool:
        """Whether a section kept from the old version has a new heading."""
        return self.old_number is not None and self.new_number is not None and self.old_title != self.new_title

    def count(self, kind: str) -> int:
        """How many of its clauses are of the kind."""
        return sum(1 for c in self.clauses if c.kind == kind)


@dataclass(frozen=True)
class Comparison:
    """The whole comparison, section by section in the new version's order."""

    sections: tuple[SectionComparison, ...]

    def clauses(self, *kinds: str) -> list[ClauseChange]:
        """Every clause change of the given kinds (all when none given), in order."""
        return [c for s in self.sections for c in s.clauses if not kinds or c.kind in kinds]

    @property
    def counts(self) -> dict[str, int]:
        """Number of clauses per kind (every kind present, zero included)."""
        found = Counter(c.kind for c in self.clauses())
        return {kind: found.get(kind, 0) for kind in (ADDED, REMOVED, REWORDED, RENUMBERED, UNCHANGED)}

    @property
    def has_changes(self) -> bool:
        """Whether any clause was added, removed or reworded."""
        return any(c.changed for c in self.clauses())

    @property
    def changed_new_refs(self) -> frozenset[str]:
        """References in the new version of clauses that were added or reworded."""
        return frozenset(c.new_ref for c in self.clauses(ADDED, REWORDED))

    @property
    def changed_old_refs(self) -> frozenset[str]:
        """References in the old version of clauses that were removed or reworded."""
        return frozenset(c.old_ref for c in self.clauses(REMOVED, REWORDED))

    @property
    def ref_map(self) -> dict[str, str]:
        """Old reference → new reference for every clause kept (unchanged, renumbered or reworded)."""
        return {c.old_ref: c.new_ref for c in self.clauses(UNCHANGED, RENUMBERED, REWORDED)}

    @property
    def changed_sections(self) -> list[str]:
        """Numbers (in the new version) of the modules whose content changed."""
        return [s.new_number for s in self.sections if s.changed]

    @property
    def kept_sections(self) -> dict[str, str]:
        """New module number → the old module it continues unchanged (its reading credit carries over)."""
        return {s.new_number: s.old_number for s in self.sections
                if s.new_number is not None and s.old_number is not None and not s.changed}


# --------------------------------------------------------------------------- matching


@dataclass
class _Item:
    index: int
    section: str
    ref: str
    text: str
    key: str = field(init=False)
    words: list[str] = field(init=False)

    def __post_init__(self):
        self.key = " ".join(self.text.split())
        self.words = [w.lower() for w in _WORDS.findall(self.text)]


def _flatten(sections: Iterable) -> tuple[list[_Item], dict[str, str]]:
    items, titles = [], {}
    for section in sections:
        titles[section.number] = section.title
        for clause in section.clauses:
            items.append(_Item(len(items), section.number, clause.ref, clause.text))
    return items, titles


def similarity(old: str, new: str) -> float:
    """Word similarity of two texts, 0–1 (case and punctuation ignored)."""
    a = [w.lower() for w in _WORDS.findall(old)]
    b = [w.lower() for w in _WORDS.findall(new)]
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _match(old: list[_Item], new: list[_Item]) -> dict[int, tuple[int, float]]:
    """Old index → (new index, similarity)."""
    pairs: dict[int, tuple[int, float]] = {}
    # 1. Identical text, in document order: survives inserted or removed sections and renumbering.
    aligner = SequenceMatcher(None, [o.key for o in old], [n.key for n in new], autojunk=False)
    for block in aligner.get_matching_blocks():
        for k in range(block.size):
            pairs[block.a + k] = (block.b + k, 1.0)
    # 2. The rest by similarity, the same reference lowering the bar; best pairs first.
    taken = {b for b, _ in pairs.values()}
    rest_old = [o for o in old if o.index not in pairs]
    rest_new = [n for n in new if n.index not in taken]
    candidates = []
    for o in rest_old:
        for n in rest_new:
            same_ref = o.ref == n.ref
            bar = SIMILAR_SAME_REF if same_ref else SIMILAR
            matcher = SequenceMatcher(None, o.words, n.words, autojunk=False)
            if matcher.real_quick_ratio() < bar or matcher.quick_ratio() < bar:
                continue
            score = matcher.ratio() if (o.words or n.words) else 1.0
            if score >= bar:
                candidates.append((score + (0.15 if same_ref else 0.0), -abs(o.index - n.index), o.index,
                                   n.index, score))
    for _rank, _distance, a, b, score in sorted(candidates, reverse=True):
        if a not in pairs and b not in taken:
            pairs[a] = (b, score)
            taken.add(b)
    return pairs


def word_diff(old: str, new: str) -> tuple[WordChange, ...]:
    """The word-level difference between two texts; whitespace changes alone do not count."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)

    def key(token: str) -> str:
        return " " if token.isspace() else token

    runs: list[list[str]] = []
    matcher = SequenceMatcher(None, [key(t) for t in a], [key(t) for t in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(["equal", "".join(b[j1:j2])])
            continue
        if tag in ("delete", "replace"):
            runs.append(["delete", "".join(a[i1:i2])])
        if tag in ("insert", "replace"):
            runs.append(["insert", "".join(b[j1:j2])])
    merged: list[list[str]] = []
    for op, text in runs:
        if merged and merged[-1][0] == op:
            merged[-1][1] += text
        else:
            merged.append([op, text])
    return tuple(WordChange(op, text) for op, text in merged if text)


def _majority(values: Iterable[str]) -> str | None:
    counted = Counter(values).most_common()
    return counted[0][0] if counted else None


def compare(old_sections: Sequence, new_sections: Sequence) -> Comparison:
    """Compare two versions clause by clause and group the result by section (see the module docstring)."""
    old, old_titles = _flatten(old_sections)
    new, new_titles = _flatten(new_sections)
    pairs = _match(old, new)
    by_new = {b: (a, score) for a, (b, score) in pairs.items()}

    # Each new section continues the old section most of its kept clauses came from, and vice versa.
    new_from = {}
    for number in new_titles:
        new_from[number] = _majority(old[a].section for b, (a, _s) in by_new.items() if new[b].section == number)
    old_to = {}
    for number in old_titles:
        old_to[number] = _majority(new[b].section for a, (b, _s) in pairs.items() if old[a].section == number)
    # Claimed only once each: when two new sections claim one old section, the first keeps it.
    claimed: set[str] = set()
    for number, source in new_from.items():
        if source in claimed:
            new_from[number] = None
        elif source is not None:
            claimed.add(source)

    # Entries sorted on the new version's order; a removed clause sits just after the clause before it.
    entries: list[tuple[tuple[float, int], str, ClauseChange]] = []
    for n in new:
        if n.index in by_new:
            a, score = by_new[n.index]
            o = old[a]
            if o.key == n.key:
                kind = UNCHANGED if o.ref == n.ref else RENUMBERED
                change = ClauseChange(kind, o.ref, n.ref, o.text, n.text, 1.0)
            else:
                change = ClauseChange(REWORDED, o.ref, n.ref, o.text, n.text, round(score, 3),
                                      word_diff(o.text, n.text))
        else:
            change = ClauseChange(ADDED, None, n.ref, None, n.text)
        entries.append(((n.index, 0), n.section, change))
    anchor = -0.5
    for o in old:
        if o.index in pairs:
            anchor = pairs[o.index][0]
            continue
        home = old_to.get(o.section)
        group = home if home is not None and new_from.get(home) == o.section else f"\0{o.section}"
        entries.append(((anchor + 0.5, o.index), group, ClauseChange(REMOVED, o.ref, None, o.text, None)))
    entries.sort(key=lambda e: e[0])

    groups: dict[str, list[ClauseChange]] = {number: [] for number in new_titles}
    first: dict[str, tuple[float, int]] = {}
    for key, group, change in entries:
        groups.setdefault(group, []).append(change)
        first.setdefault(group, key)
    # New sections keep their order; a removed section goes before the first new one that comes after it.
    order = list(new_titles)
    for group in (g for g in groups if g.startswith("\0")):
        at = next((i for i, number in enumerate(order) if number in first and first[number] > first[group]),
                  len(order))
        order.insert(at, group)
    sections = []
    for group in order:
        if group.startswith("\0"):
            number = group[1:]
            sections.append(SectionComparison(number, None, old_titles[number], None, tuple(groups[group])))
        else:
            source = new_from.get(group)
            sections.append(SectionComparison(source, group, old_titles.get(source) if source else None,
                                              new_titles[group], tuple(groups[group])))
    return Comparison(tuple(sections))


# --------------------------------------------------------------------------- consequences


@dataclass(frozen=True)
class QuestionReview:
    """A question on the current version and what the new version means for it."""

    key: str
    refs: tuple[str, ...]
    #: "carry" (cited clauses unchanged), "renumbered" (same text, new references) or "review".
    outcome: str
    #: The cited clauses that were removed or reworded, or renumbered (old ref → new ref).
    removed: tuple[str, ...] = ()
    reworded: tuple[str, ...] = ()
    renumbered: tuple[tuple[str, str], ...] = ()


def review_questions(comparison: Comparison, questions: Iterable) -> list[QuestionReview]:
    """Each current-version question (`key`, `clause_refs`): carried over, renumbered, or to be reviewed.

    A question citing a removed or reworded clause must be reviewed; one whose clauses only moved needs
    its references updating; the rest carry over as they are.
    """
    kinds = {c.old_ref: c for c in comparison.clauses(REMOVED, REWORDED, RENUMBERED, UNCHANGED) if c.old_ref}
    reviews = []
    for question in questions:
        refs = tuple(question.clause_refs)
        removed = tuple(r for r in refs if r not in kinds or kinds[r].kind == REMOVED)
        reworded = tuple(r for r in refs if r in kinds and kinds[r].kind == REWORDED)
        moved = tuple((r, kinds[r].new_ref) for r in refs if r in kinds and kinds[r].kind == RENUMBERED)
        outcome = "review" if removed or reworded else "renumbered" if moved else "carry"
        reviews.append(QuestionReview(question.key, refs, outcome, removed, reworded, moved))
    return reviews


def questions_citing_changes(comparison: Comparison, questions: Iterable) -> list:
    """The new version's questions that cite an added or reworded clause (the "what changed" quiz)."""
    changed = comparison.changed_new_refs
    return [q for q in questions if changed.intersection(q.clause_refs)]


@dataclass(frozen=True)
class CheckedQuestion:
    """A quiz question as the draft review lists it, with why it is listed."""

    key: str
    stem: str
    refs: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class QuizBankCheck:
    """The quiz bank against a new version: what to review, what carries over, what asks about the changes."""

    #: Current-version questions citing a removed or reworded clause.
    to_review: tuple[CheckedQuestion, ...]
    #: Current-version questions whose clauses only moved: their references need updating.
    renumbered: tuple[CheckedQuestion, ...]
    #: Current-version questions whose clauses are unchanged: they carry over as they are.
    carried: tuple[CheckedQuestion, ...]
    #: New-version questions citing an added or reworded clause: the "what changed" quiz.
    on_changes: tuple[CheckedQuestion, ...]

    @property
    def needs_attention(self) -> bool:
        """Whether any question must be reviewed or have its references updated."""
        return bool(self.to_review or self.renumbered)


def check_quiz_bank(comparison: Comparison, old_questions: Iterable, new_questions: Iterable) -> QuizBankCheck:
    """Sort the questions (`key`, `stem`, `clause_refs`) of the current and the new version for HR's review."""
    to_review, renumbered, carried = [], [], []
    for question in old_questions:
        review = review_questions(comparison, [question])[0]
        notes = [f"cites {ref}, which was removed" for ref in review.removed]
        notes += [f"cites {ref}, which was reworded" for ref in review.reworded]
        notes += [f"cites {old}, now {new}" for old, new in review.renumbered]
        item = CheckedQuestion(question.key, question.stem, review.refs, "; ".join(notes).capitalize())
        {"review": to_review, "renumbered": renumbered, "carry": carried}[review.outcome].append(item)
    kinds = {c.new_ref: c.kind for c in comparison.clauses(ADDED, REWORDED)}
    on_changes = [CheckedQuestion(q.key, q.stem, tuple(q.clause_refs),
                                  "; ".join(f"cites {ref}, which was {kinds[ref]}" for ref in q.clause_refs
                                            if ref in kinds).capitalize())
                  for q in questions_citing_changes(comparison, new_questions)]
    return QuizBankCheck(tuple(to_review), tuple(renumbered), tuple(carried), tuple(on_changes))
