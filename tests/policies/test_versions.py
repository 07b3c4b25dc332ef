"""Policy versions in the database: the demo's two E-ACT versions, review dates, publishing a draft."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.people.models import Trust
from modules.policies import queries
from modules.policies.models import PolicyVersion
from modules.policies.services import VersionError, publish_draft, set_next_review
from modules.policies.signals import version_published

TODAY = date(2026, 11, 21)


def trust(slug: str) -> Trust:
    return db.session.scalar(select(Trust).where(Trust.slug == slug))


def versions(slug: str) -> list[PolicyVersion]:
    return sorted(queries.versions_of(trust(slug).id), key=lambda v: v.number)


def test_sync_publishes_the_demo_e_act_version_and_leaves_the_seed_as_a_draft(app):
    demo, seed = versions("e-act")
    assert (demo.number, demo.status, demo.source_file) == (1, "published", "demo/policies/e-act-2021-demo.txt")
    assert (seed.number, seed.status, seed.source_file) == (2, "draft", "policies/e-act.txt")
    assert queries.base_version(seed) == demo and queries.base_version(demo) is None
    result = queries.compared(seed).comparison
    assert [(c.kind, c.new_ref) for c in result.clauses("added")] == [("added", "5.5"), ("added", "5.5.1")]
    assert result.changed_sections == ["5"] and result.counts["removed"] == 0


@pytest.mark.parametrize(("slug", "due", "past"), [
    ("tkat", date(2025, 12, 31), True),
    ("e-act", date(2023, 1, 31), True),
    ("agora", date(2024, 11, 30), True),
    ("tsat", date(2026, 12, 31), False),
    ("tasmat", None, False),
])
def test_review_dates_parsed_month_only_at_the_end_of_the_month(app, slug, due, past):
    version = queries.published_version(trust(slug).id)
    assert version.next_review_on == due
    assert queries.policy_past_review(version, TODAY) is past
    assert (queries.past_review(trust(slug).id, TODAY) is not None) is past


def test_past_review_starts_the_day_after_the_due_date():
    version = SimpleNamespace(next_review_on=date(2025, 12, 31), status="published")
    assert not queries.policy_past_review(version, date(2025, 12, 31))
    assert queries.policy_past_review(version, date(2026, 1, 1))
    assert not queries.policy_past_review(SimpleNamespace(next_review_on=None), date(2030, 1, 1))


def test_review_reminder_is_due_from_sixty_days_before_until_the_review_date():
    version = SimpleNamespace(id=7, next_review_on=date(2026, 12, 31), status="published")
    assert queries.review_reminder_on(version) == date(2026, 11, 1)
    assert not queries.review_reminder_due(version, date(2026, 10, 31))
    assert queries.review_reminder_due(version, date(2026, 11, 1))
    assert queries.review_reminder_due(version, date(2026, 12, 31))
    assert not queries.review_reminder_due(version, date(2027, 1, 1))  # past review: the dashboards flag it
    assert not queries.review_reminder_due(SimpleNamespace(id=8, next_review_on=date(2026, 12, 31), status="draft"),
                                           date(2026, 12, 1))
    assert queries.review_reminder_reason(version) == "policy-review:7:2026-12-31"


def test_only_tsat_is_due_a_review_reminder_on_21_november_2026(app):
    due = queries.versions_due_review_reminder(TODAY)
    assert [db.session.get(Trust, v.trust_id).slug for v in due] == ["tsat"]


def test_hr_sets_the_next_review_date(app, now):
    version = queries.published_version(trust("tkat").id)
    set_next_review(version, date(2027, 6, 30), now=now)
    db.session.commit()
    db.session.expire_all()
    version = queries.published_version(trust("tkat").id)
    assert version.next_review_on == date(2027, 6, 30) and version.next_review_set_on == TODAY
    assert version.stated_dates["next_review"] == "2025-12"  # what the document says is kept
    assert not queries.policy_past_review(version, TODAY)
    with pytest.raises(VersionError):
        set_next_review(version, date(2040, 1, 1), now=now)


def test_publishing_a_draft_supersedes_the_current_version_once(app, now):
    sent = []

    def receiver(version, **kwargs):
        sent.append((version.id, kwargs["now"]))

    demo, seed = versions("e-act")
    before = db.session.scalar(select(func.count()).select_from(PolicyVersion))
    with version_published.connected_to(receiver):
        assert publish_draft(seed, effective_on=TODAY + timedelta(days=7), now=now) is True
        db.session.commit()
        assert publish_draft(seed, effective_on=TODAY, now=now) is False  # twice: nothing new
        db.session.commit()
    db.session.expire_all()
    demo, seed = versions("e-act")
    assert (demo.status, seed.status) == ("superseded", "published")
    assert seed.published_at == now and seed.effective_on == TODAY + timedelta(days=7)
    assert sent == [(seed.id, now)]
    assert db.session.scalar(select(func.count()).select_from(PolicyVersion)) == before
    with pytest.raises(VersionError):
        publish_draft(demo, effective_on=TODAY, now=now)


def test_an_effective_date_in_the_past_is_refused_and_nothing_changes(app, now):
    _demo, seed = versions("e-act")
    with pytest.raises(VersionError) as refused:
        publish_draft(seed, effective_on=TODAY - timedelta(days=1), now=now)
    assert refused.value.field == "effective_on"
    db.session.rollback()
    assert [v.status for v in versions("e-act")] == ["published", "draft"]


def test_an_older_draft_cannot_be_published_over_a_newer_version(app, now):
    demo, seed = versions("e-act")
    publish_draft(seed, effective_on=TODAY, now=now)
    older = PolicyVersion(trust_id=demo.trust_id, number=3, title="x", source_file="x", source_sha256="0" * 64,
                          source_text="x", status="draft", stated_dates={}, created_at=now)
    db.session.add(older)
    db.session.flush()
    seed.number, older.number = 4, 3  # a draft numbered below the current version
    db.session.flush()
    with pytest.raises(VersionError):
        publish_draft(older, effective_on=TODAY, now=now)
