"""The publishing rule for a version's quiz, as a pure function: no database, no Flask.

A version may be published to staff only when every must / must-not clause is examined by a reviewed,
unambiguous question or deliberately excluded with a reason, and the reviewed bank can fill the trust's draw:
at least N questions, from no more modules than N (every attempt asks at least one question per module that has
one; see drawing.draw).
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Obligation:
    """A must / must-not clause of the version, in document order."""

    ref: str
    text: str
    modality: str


@dataclass(frozen=True)
class BankItem:
    """What the rule needs of a question: its key, module, cited clauses and whether staff may be asked it."""

    key: str
    module: Hashable
    refs: tuple[str, ...]
    drawable: bool


@dataclass(frozen=True)
class Coverage:
    """Where a version's quiz stands against the publishing rule."""

    #: ref → keys of the reviewed, unambiguous questions citing it, for every obligation (document order).
    covered: Mapping[str, tuple[str, ...]]
    #: ref → reason, for obligations deliberately not examined.
    excluded: Mapping[str, str]
    #: Obligations neither covered nor excluded, in document order.
    uncovered: tuple[Obligation, ...]
    #: How many questions staff may be asked (reviewed, unambiguous) and from how many modules.
    pool: int
    modules: int
    #: The trust's draw (questions per attempt).
    draw: int
    #: Why the draw cannot be filled (empty when it can).
    draw_problems: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """Whether the version may be published: nothing uncovered and the draw can be filled."""
        return not self.uncovered and not self.draw_problems


def coverage(obligations: Iterable[Obligation], bank: Iterable[BankItem], exclusions: Mapping[str, str],
             draw: int) -> Coverage:
    """Judge a version's quiz against the publishing rule (see the module docstring)."""
    obligations = list(obligations)
    drawable = [item for item in bank if item.drawable]
    citing: dict[str, list[str]] = {}
    for item in drawable:
        for ref in item.refs:
            citing.setdefault(ref, []).append(item.key)
    covered, excluded, uncovered, seen = {}, {}, [], set()
    for obligation in obligations:
        if obligation.ref in seen:
            continue
        seen.add(obligation.ref)
        if citing.get(obligation.ref):
            covered[obligation.ref] = tuple(citing[obligation.ref])
        elif obligation.ref in exclusions:
            excluded[obligation.ref] = exclusions[obligation.ref]
        else:
            uncovered.append(obligation)
    modules = len({item.module for item in drawable})
    problems = []
    if not drawable:
        problems.append(f"The trust's quiz asks {draw} question{'s' if draw != 1 else ''}, but no question is "
                        f"reviewed yet: someone other than each question's author must approve at least {draw}.")
    elif len(drawable) < draw:
        problems.append(f"The trust's quiz asks {draw} questions, but only {len(drawable)} reviewed question"
                        f"{'s are' if len(drawable) != 1 else ' is'} ready: add and review "
                        f"{draw - len(drawable)} more.")
    if modules > draw:
        problems.append(f"The trust's quiz asks {draw} questions, but reviewed questions cover {modules} modules and "
                        f"every attempt must ask about each of them: the trust's number of quiz questions must be "
                        f"at least {modules}.")
    return Coverage(covered=covered, excluded=excluded, uncovered=tuple(uncovered), pool=len(drawable),
                    modules=modules, draw=draw, draw_problems=tuple(problems))
