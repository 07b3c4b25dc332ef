"""The statements a person signs, built from the trust's rules and the version's own clauses.

Driven by the trust's `rules.monitoring` (kind none|notice|consent, with clauses): every trust gets the
policy statement; "consent" and "notice" add a monitoring statement quoting the named clauses of the
version shown. The wording is `rules.statements.<kind>` (defaults in modules/people/rules.py; placeholders
{title}, {version}, {trust}, {clauses}).

A consent statement is never part of the acknowledgement: it is its own decision (give or decline),
recorded as its own event. A notice statement is acknowledged with the policy and never called consent.
"""

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import select

from modules.attestation.models import MEANING_ACKNOWLEDGED, MEANING_CONSENTED, MEANING_NOTICE
from modules.core.extensions import db
from modules.evidence.ledger import record_hash
from modules.people.models import Trust
from modules.policies.models import Clause, PolicyVersion
from modules.policies.queries import is_register_version

#: Words in a consent clause that treat using something, or acknowledging the policy, as consent
#: (E-ACT 4.3.2: "You consent to such monitoring by your acknowledgement of this Policy and your use of such
#: resources"). Matched against the clause text, never against a trust's name.
IMPLIED_CONSENT = re.compile(
    r"\bby\s+(?:your|their|the\s+employee'?s?|staff)\s+(?:continued\s+)?"
    r"(?:use|using|acknowledge?ment|acceptance|accepting|signing|signature|access(?:ing)?)\b[^.;]*",
    re.IGNORECASE)

#: What ticking a statement of each kind records.
AGREED_MEANING = {"policy": MEANING_ACKNOWLEDGED, "consent": MEANING_CONSENTED, "notice": MEANING_NOTICE}


class StatementError(LookupError):
    """The trust's rules name something the policy version does not have."""


@dataclass(frozen=True)
class Statement:
    """One statement as shown: a sentence to tick, and the clauses it quotes."""

    key: str
    kind: str
    sentence: str
    quotes: tuple[tuple[str, str], ...] = ()

    @property
    def clauses(self) -> str:
        """The quoted clause refs, comma-separated."""
        return ", ".join(ref for ref, _ in self.quotes)

    @property
    def text(self) -> str:
        """The exact text recorded: the sentence, then each quoted clause with its ref."""
        return "\n\n".join([self.sentence, *(f"{ref} {body}" for ref, body in self.quotes)])

    @property
    def text_sha256(self) -> str:
        """sha256 of the recorded text."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def agreed_meaning(self) -> str:
        """What ticking it means: "acknowledged", "consented" or "notice acknowledged"."""
        return AGREED_MEANING[self.kind]

    @property
    def is_consent(self) -> bool:
        """Whether this statement gives consent (and so can be withdrawn)."""
        return self.kind == "consent"


def _refs_phrase(refs: list[str]) -> str:
    word = "clause" if len(refs) == 1 else "clauses"
    listed = refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + " and " + refs[-1]
    return f"{word} {listed}"


def statements_for(trust: Trust, version: PolicyVersion) -> list[Statement]:
    """The statements this trust's staff sign for this version, in page order."""
    rules = trust.rules
    values = {"title": version.title, "version": version.label, "trust": trust.name}
    result = [Statement(key="policy", kind="policy", sentence=rules.statements.policy.format(**values, clauses=""))]
    kind = rules.monitoring.kind
    # The monitoring rule quotes the register policy's clauses; another of the trust's policies has only its own.
    if kind in ("consent", "notice") and is_register_version(version):
        refs = list(rules.monitoring.clauses)
        found = {c.ref: c.text for c in db.session.scalars(
            select(Clause).where(Clause.version_id == version.id, Clause.ref.in_(refs)))}
        missing = [ref for ref in refs if ref not in found]
        if missing:
            raise StatementError(f"{trust.slug} {version.label}: no clause {', '.join(missing)}")
        sentence = getattr(rules.statements, kind).format(**values, clauses=_refs_phrase(refs))
        result.append(Statement(key="monitoring", kind=kind, sentence=sentence,
                                quotes=tuple((ref, found[ref]) for ref in refs)))
    return result


def consent_statement(statements: list[Statement]) -> Statement | None:
    """The monitoring-consent statement among them, if the trust asks for consent."""
    return next((s for s in statements if s.is_consent), None)


def acknowledged_statements(statements: list[Statement]) -> list[Statement]:
    """The statements the policy acknowledgement covers: all but the consent statement (its own decision)."""
    return [s for s in statements if not s.is_consent]


def asks_consent(trust: Trust) -> bool:
    """Whether the trust's rules ask staff for monitoring consent (rather than giving notice, or nothing)."""
    return trust.rules.monitoring.kind == "consent"


def consent_is_condition(trust: Trust) -> bool:
    """Whether the trust's rules make monitoring consent a condition of acknowledging (default no).

    A condition makes consent not freely given (UK GDPR Art 7(4)); `flask content sync` warns when it is set.
    """
    return asks_consent(trust) and trust.rules.consent_is_condition


def implied_consent(text: str) -> list[str]:
    """The phrases of a clause that treat use or acknowledgement as consent, e.g. "by your use of such
    resources"; empty when the clause does not mention consent or has none."""
    if not re.search(r"\bconsent", text, re.IGNORECASE):
        return []
    return [match.group(0).strip() for match in IMPLIED_CONSENT.finditer(text)]


def implied_consent_clauses(version: PolicyVersion) -> list[tuple[str, str]]:
    """(ref, phrase) for every clause of the version that treats use or acknowledgement as consent."""
    found = []
    for clause in db.session.scalars(select(Clause).where(Clause.version_id == version.id,
                                                          Clause.text.ilike("%consent%")).order_by(Clause.id)):
        found.extend((clause.ref, phrase) for phrase in implied_consent(clause.text))
    return found


def statements_digest(items) -> str:
    """sha256 over the statements (key, kind, clauses, text hash) in order; the form carries it."""
    return record_hash({"statements": [{"key": s.key, "kind": s.kind, "clauses": s.clauses,
                                        "text_sha256": s.text_sha256} for s in items]})
