"""modules/wiring.py connects every signal, once, in the order of the walk; nothing else connects one."""

import re
from pathlib import Path

from sqlalchemy import func, select

import modules.certificates.receivers as certificate_receivers
from modules.certificates.models import Certificate
from modules.core import signals
from modules.core.extensions import db
from tests.attestation.factories import acknowledge, demo_user
from tests.conftest import _make_app

ROOT = Path(__file__).resolve().parents[2]
#: Signals sent for whoever needs them, with nothing connected yet.
UNHEARD = {"declined", "consent-given"}
#: Each signal's receivers, in the order the walk runs them.
WALK = {
    "content-synced": ["load_quiz_banks"],
    "staff-imported": ["assign_imported"],
    "staff-invited": ["send_invitation"],
    "staff-left": ["close_leaver"],
    "password-reset-requested": ["send_reset_link"],
    "password-changed": ["send_password_notice"],
    "roles-changed": ["ledger_role_change"],
    "acknowledged": ["issue_on_acknowledgement", "complete_assignment", "owe_scores"],
    "consent-declined": ["tell_hr_and_dpo_of_consent"],
    "withdrawn": ["tell_hr_and_dpo_of_consent"],
    "version-published": ["on_version_published", "warn_before_lapse"],
}


def _receivers(signal) -> list[str]:
    return [receiver.__name__ for receiver in signal.receivers_for(object())]


def test_every_signal_is_connected_once_in_walk_order_after_many_apps(app, tmp_path, db_url):
    _make_app(db_url, tmp_path / "second")
    _make_app(db_url, tmp_path / "third")
    connected = {name: _receivers(signal) for name, signal in signals.ALL.items() if name not in UNHEARD}
    assert connected == WALK
    assert set(signals.ALL) == set(WALK) | UNHEARD
    assert all(not signals.ALL[name].receivers for name in UNHEARD)


def test_two_apps_issue_one_certificate_per_acknowledgement(app, tmp_path, db_url, now, monkeypatch):
    _make_app(db_url, tmp_path / "second")
    calls = []
    issue = certificate_receivers.issue_certificate
    monkeypatch.setattr(certificate_receivers, "issue_certificate",
                        lambda ack, **kw: calls.append(ack.id) or issue(ack, **kw))
    ack = acknowledge(demo_user("staff", "tkat"), now)
    db.session.commit()
    assert calls == [ack.id]
    assert db.session.scalar(select(func.count()).select_from(Certificate)
                             .where(Certificate.acknowledgement_id == ack.id)) == 1


def test_receivers_run_in_the_order_they_were_connected():
    walk = signals.WalkSignal("test-order")
    heard = []
    receivers = [lambda sender, i=i: heard.append(i) for i in range(12)]
    for receiver in reversed(receivers):
        walk.connect(receiver, weak=False)
    walk.connect(receivers[3], weak=False)  # again: no second call, no move
    walk.send(None)
    assert heard == list(reversed(range(12)))


def test_only_the_wiring_module_connects_signals():
    connecting = re.compile(r"\.connect(_via)?\(|@\w+\.connect")
    found = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "modules").rglob("*.py"))
             if path.name != "wiring.py" and connecting.search(path.read_text())]
    assert found == []
    assert not re.search(r"^\s*import modules\.", (ROOT / "app.py").read_text(), re.MULTILINE)


def test_the_architecture_page_shows_every_receiver(app):
    """docs/architecture.md's walk table names each receiver modules/wiring.py connects (so it stays true)."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    connected = {name for signal in signals.ALL.values() for name in _receivers(signal)}
    assert connected and not {name for name in connected if f"`{name}`" not in page}
