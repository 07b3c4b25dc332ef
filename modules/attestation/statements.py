"""The statements a person signs, built from the trust's rules and the version's own clauses.

Driven by trusts.yaml `monitoring: {kind: none|notice|consent, clauses: [...]}`: every trust gets the
policy statement; "consent" and "notice" add a monitoring statement quoting the named clauses of the
version shown. A trust may reword a statement under `rules.statements.<kind>` (placeholders {title},
{version}, {trust}, {clauses}).
"""

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from modules.attestation.ledger import record_hash
from modules.attestation.models import MEANING_ACKNOWLEDGED, MEANING_CONSENTED, MEANING_NOTICE
from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies.models import Clause, PolicyVersion

#: Default wording per statement kind; the quoted clauses follow the sentence.
DEFAULT_WORDING = {
    "policy": "I have read and understood {title} ({version}) of {trust}, and I will comply with it.",
    "consent": ("I consent to the monitoring described in {clauses} of the policy, quoted here. "
                "I understand that the policy treats my acknowledgement as this consent, and that I can "
                "withdraw my consent at any time."),
    "notice": ("I have read the monitoring notice in {clauses} of the policy, quoted here. I understand "
               "that this tells me about monitoring; it does not ask for my consent."),
}

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
    wording = {**DEFAULT_WORDING, **(trust.setting("statements") or {})}
    values = {"title": version.title, "version": version.label, "trust": trust.name}
    result = [Statement(key="policy", kind="policy", sentence=wording["policy"].format(**values, clauses=""))]
    monitoring = trust.setting("monitoring") or {"kind": "none"}
    kind = monitoring.get("kind", "none")
    if kind in ("consent", "notice"):
        refs = list(monitoring.get("clauses") or [])
        if not refs:
            raise StatementError(f"{trust.slug}: monitoring {kind} names no clauses")
        found = {c.ref: c.text for c in db.session.scalars(
            select(Clause).where(Clause.version_id == version.id, Clause.ref.in_(refs)))}
        missing = [ref for ref in refs if ref not in found]
        if missing:
            raise StatementError(f"{trust.slug} {version.label}: no clause {', '.join(missing)}")
        sentence = wording[kind].format(**values, clauses=_refs_phrase(refs))
        result.append(Statement(key="monitoring", kind=kind, sentence=sentence,
                                quotes=tuple((ref, found[ref]) for ref in refs)))
    elif kind != "none":
        raise StatementError(f"{trust.slug}: monitoring kind must be none, notice or consent, not {kind!r}")
    return result


def statements_digest(items) -> str:
    """sha256 over the statements (key, kind, clauses, text hash) in order; the form carries it."""
    return record_hash({"statements": [{"key": s.key, "kind": s.kind, "clauses": s.clauses,
                                        "text_sha256": s.text_sha256} for s in items]})
