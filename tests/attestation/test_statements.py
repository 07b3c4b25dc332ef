"""Statements per trust come from trusts.yaml monitoring rules and the version's own clauses."""

import pytest

from modules.attestation.statements import statements_for
from modules.policies.models import Clause
from modules.training.queries import current_version
from tests.attestation.factories import demo_user

EXPECTED = {
    "tkat": [("policy", "policy", "")],
    "e-act": [("policy", "policy", ""), ("monitoring", "consent", "4.3.1, 4.3.2")],
    "tsat": [("policy", "policy", ""), ("monitoring", "notice", "5.1, 7.1")],
    "tasmat": [("policy", "policy", ""), ("monitoring", "notice", "8.1")],
    "agora": [("policy", "policy", ""), ("monitoring", "notice", "6.1")],
}


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_statements_per_trust(app, slug):
    user = demo_user("staff", slug)
    version = current_version(user.trust_id)
    statements = statements_for(user.trust, version)
    assert [(s.key, s.kind, s.clauses) for s in statements] == EXPECTED[slug]
    assert version.title in statements[0].sentence and "comply" in statements[0].sentence
    for statement in statements[1:]:
        for ref, body in statement.quotes:
            clause = app.extensions["sqlalchemy"].session.scalar(
                Clause.__table__.select().with_only_columns(Clause.text)
                .where(Clause.version_id == version.id, Clause.ref == ref))
            assert body == clause and body in statement.text


def test_eact_consent_quotes_4_3_1_and_4_3_2_and_is_consent(app):
    user = demo_user("staff", "e-act")
    consent = statements_for(user.trust, current_version(user.trust_id))[1]
    assert consent.agreed_meaning == "consented" and consent.is_consent
    assert "I consent" in consent.sentence and "withdraw" in consent.sentence
    # Issue 12: no self-contradiction ("I consent… the policy treats my acknowledgement as this consent").
    assert "acknowledgement" not in consent.sentence and "takes effect from when I make it" in consent.sentence
    assert "You consent to such monitoring by your acknowledgement of this Policy" in consent.text
    assert "reserve the right to monitor" in consent.text


@pytest.mark.parametrize("slug", ["tsat", "tasmat", "agora"])
def test_notices_are_not_consent(app, slug):
    user = demo_user("staff", slug)
    notice = statements_for(user.trust, current_version(user.trust_id))[1]
    assert notice.agreed_meaning == "notice acknowledged" and not notice.is_consent
    # Issue 12: notice-only trusts never see the word "consent" applied to their acknowledgement.
    assert "consent" not in notice.sentence.lower() and "monitoring notice" in notice.sentence


def test_implied_consent_is_detected_from_clause_text_not_the_trust():
    from modules.attestation.statements import implied_consent

    assert implied_consent("You consent to such monitoring by your acknowledgement of this Policy and your use of "
                           "such resources and systems. For further information see X.") == [
        "by your acknowledgement of this Policy and your use of such resources and systems"]
    assert implied_consent("Staff consent to monitoring by their continued use of the network.") == [
        "by their continued use of the network"]
    assert implied_consent("We may monitor activity by your use of the systems.") == []  # no consent named
    assert implied_consent("We will ask for your consent before monitoring.") == []


def test_eact_has_an_implied_consent_clause_and_notice_trusts_none(app):
    from modules.attestation.statements import implied_consent_clauses

    refs = {slug: [ref for ref, _ in implied_consent_clauses(current_version(demo_user("staff", slug).trust_id))]
            for slug in EXPECTED}
    assert refs["e-act"] == ["4.3.2"]
    assert all(not refs[slug] for slug in ("tkat", "tsat", "tasmat", "agora")), refs
