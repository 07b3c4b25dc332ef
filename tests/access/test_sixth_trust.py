"""A sixth trust defined only in a fixture trusts.yaml, with its own chain and minimums, works with no code change."""

import csv
import io
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.cast import DEMO_PASSWORD, seed_trust
from modules.access import queries, services
from modules.core.extensions import db
from modules.people.models import Trust
from modules.people.passwords import hash_password
from modules.policies.services import sync_content
from tests.access.factories import approve_through, certify, demo_user
from tests.conftest import demo_email
from tests.helpers import sign_in

ROOT = Path(__file__).resolve().parents[2]

SIXTH = """
  - slug: northfield
    name: Northfield Learning Trust
    short_name: NLT
    policy:
      versions:
        - file: policies/agora.txt
    rules:
      approval_chain:
        - {role: dpo, label: "Data Protection Officer", clauses: ["4.1"]}
        - {relation: line_manager, label: "Line manager"}
        - {role: hr, label: "People team", clauses: ["3.4"]}
      minimum_administrators: 3
      minimum_moderators: 1
      register_warning_days: 14
      forbidden_requests:
        - {platform: tiktok, clause: "3.4"}
      register_columns:
        - {label: "Staff member", field: name}
        - {label: "Channel", field: account}
"""


@pytest.fixture
def sixth(app, tmp_path, now):
    """The five seed trusts plus Northfield, loaded from a fixture content folder, with demo people."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    with (content / "trusts.yaml").open("a", encoding="utf-8") as handle:
        handle.write(SIXTH)
    app.config["CONTENT_DIR"] = str(content)
    # Its reviewed quiz bank (Agora's questions: the same policy file), so content sync may publish it.
    quizzes = tmp_path / "quizzes"
    shutil.copytree(ROOT / "quizzes", quizzes)
    bank = (quizzes / "agora.yaml").read_text(encoding="utf-8")
    (quizzes / "northfield.yaml").write_text(
        bank.replace("trust: agora", "trust: northfield").replace("id: agora-", "id: northfield-"), encoding="utf-8")
    app.config["QUIZZES_DIR"] = str(quizzes)
    sync_content(content, now=now, app=app)
    trust = db.session.scalar(select(Trust).where(Trust.slug == "northfield"))
    seed_trust(trust, now=now, password_hash=hash_password(DEMO_PASSWORD))
    db.session.commit()
    return trust


def test_sixth_trust_chain_minimums_and_columns(app, sixth, now):
    admin = demo_user("admin", "northfield")
    acct = services.register_account(admin, platform="instagram", handle="@northfield", academy=None,
                                     purpose="Trust news", status="proposed", now=now)
    staff = demo_user("staff", "northfield")
    certify(staff, now)
    request = services.request_join(staff, acct, role="administrator", reason="Newsletter", now=now)
    deciders = approve_through(request, now)
    db.session.commit()
    assert [p.email.split("@")[0] for p in deciders] == ["dpo", "manager", "hr"]
    assert request.grant is not None and request.grant.approver_id_list == [p.id for p in deciders]
    # Its minimums (3 administrators, 1 moderator, no clause: a trust setting) keep the account proposed.
    with pytest.raises(services.BelowMinimum) as short:
        services.set_account_status(admin, acct, "active", now=now)
    assert "1 of 3 administrators; 0 of 1 moderators" in short.value.message
    assert "a trust setting, set by Northfield" in short.value.message
    acct.status = "active"  # as if it had been active before a leaver: the register flags it
    db.session.commit()
    row = queries.account_rows(sixth, now, accounts=[acct])[0]
    assert [(r.role, r.active, r.required) for r in row.health.below] == [("administrator", 1, 3), ("moderator", 0, 1)]
    with pytest.raises(services.ForbiddenRequest) as refused:
        services.request_new_account(staff, platform="tiktok", handle="@nlt", academy=None, purpose="Clips",
                                     role="administrator", reason="Clips", answers={}, now=now)
    assert refused.value.rule.clause == "3.4" and refused.value.quotes[0].ref == "3.4"
    client = app.test_client()
    sign_in(client, demo_email("hr", "northfield"))
    header = next(csv.reader(io.StringIO(client.get("/access/register.csv").get_data(as_text=True))))
    assert header[:2] == ["Staff member", "Channel"]
