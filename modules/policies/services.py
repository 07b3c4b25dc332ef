"""Policy use-cases: load trusts.yaml and policy sources into versions. Add and flush; never commit."""

import calendar
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import func, select

from modules.core.extensions import db
from modules.core.timeutil import LONDON
from modules.people.models import Trust
from modules.people.rules import SERIES_SLUG, RulesError, TrustRules
from modules.people.security import record_event
from modules.people.services import PeopleError, rules_edited_here, sync_trust, trust_roles
from modules.policies import overlay as overlays
from modules.policies.models import Clause, PolicySeries, PolicySource, PolicyVersion, Section
from modules.policies.parser import ParsedPolicy, PolicyParseError, parse_policy
from modules.policies.rendering import reading_minutes, render_section, section_kind
from modules.policies.signals import content_synced, version_published
from modules.policies.sources import SourceError, read_source

OBLIGATIONS = ("must", "must_not")


class ContentError(ValueError):
    """The content/ folder cannot be loaded; the message names the file and the reason."""


@dataclass
class SyncReport:
    """What a content sync did, for the CLI to print."""

    trusts: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    #: Earlier versions not loaded, because the trust already had versions when they were offered.
    skipped: list[str] = field(default_factory=list)
    #: Rules that load but deserve a person's attention (printed as warnings; the sync still succeeds).
    warnings: list[str] = field(default_factory=list)


def rule_warnings(trust: Trust) -> list[str]:
    """Warnings about a trust's rules that are valid but questionable, e.g. consent made a condition."""
    found = []
    rules = trust.rules
    if rules.consent_is_condition:
        kind = rules.monitoring.kind
        if kind == "consent":
            found.append(f"{trust.slug}: consent_is_condition is true, so staff cannot acknowledge the policy "
                         "(or get a certificate) without consenting to monitoring. Consent that is a condition "
                         "is not freely given (UK GDPR Art 7(4)); ask the DPO to confirm another lawful basis.")
        else:
            found.append(f"{trust.slug}: consent_is_condition is set but monitoring kind is {kind!r}, "
                         "not consent: it has no effect.")
    return found


def load_trusts_yaml(content_dir: Path) -> dict:
    """Read and minimally check content/trusts.yaml."""
    path = content_dir / "trusts.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{path}: {exc}") from exc
    if not isinstance(config, dict) or not isinstance(config.get("trusts"), list):
        raise ContentError(f"{path}: expected a mapping with a 'trusts' list")
    if "default_rules" in config:
        raise ContentError(f"{path}: 'default_rules' is no longer read: every rule's default lives in "
                           "modules/people/rules.py (TrustRules); give a trust's own values under its 'rules:'")
    for entry in config["trusts"]:
        for key in ("slug", "name", "policy"):
            if key not in entry:
                raise ContentError(f"{path}: a trust entry is missing '{key}'")
    return config


def check_rules(path: Path, config: dict, entry: dict) -> TrustRules:
    """A trust's rules, typed and checked against its role catalogue; ContentError naming file, trust and key."""
    where = f"{path}, trust {entry['slug']}"
    try:
        rules = TrustRules.from_mapping(entry.get("rules"))
        roles = trust_roles(config, entry)
    except RulesError as exc:
        raise ContentError(f"{where}, rules.{exc.key}: {exc.message}") from exc
    except (PeopleError, ValueError) as exc:
        raise ContentError(f"{where}, roles: {exc}") from exc
    for key, problem in rules.role_problems({k: r.get("scope", "trust") for k, r in roles.items()}):
        raise ContentError(f"{where}, rules.{key}: {problem}")
    if rules.logo is not None and not (path.parent / rules.logo).is_file():
        raise ContentError(f"{where}, rules.logo: there is no file {rules.logo} beside {path.name}")
    return rules


def check_clauses(path: Path, slug: str, rules: TrustRules, versions: list[PolicyVersion]) -> None:
    """Every clause the trust's rules quote exists in each listed version of its policy; else ContentError."""
    for version in versions:
        refs = set(db.session.scalars(select(Clause.ref).where(Clause.version_id == version.id)))
        for key, ref in rules.clause_refs():
            if ref not in refs:
                raise ContentError(f"{path}, trust {slug}, rules.{key}: the policy ({version.source_file}) "
                                   f"has no clause {ref!r}")


def review_due(stated: str | None) -> date | None:
    """A stated review date as a due date: month-only dates fall due at the end of that month."""
    if not stated:
        return None
    parts = [int(p) for p in stated.split("-")]
    if len(parts) == 2:
        year, month = parts
        return date(year, month, calendar.monthrange(year, month)[1])
    return date(*parts)


#: The series every trust starts with (and that 0027 made for the trusts there were).
DEFAULT_SERIES_SLUG = "social-media"
DEFAULT_SERIES_TITLE = "Staff social media policy"


class SeriesError(ValueError):
    """A new policy series was refused; the message says what to fix and names the field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


def ensure_default_series(trust: Trust, *, now: datetime, title: str | None = None) -> PolicySeries:
    """The trust's first series, created ("social-media", "Staff social media policy") if it has none."""
    first = db.session.scalar(select(PolicySeries).where(PolicySeries.trust_id == trust.id)
                              .order_by(PolicySeries.position, PolicySeries.id).limit(1))
    if first is None:
        first = PolicySeries(trust_id=trust.id, slug=DEFAULT_SERIES_SLUG, title=(title or DEFAULT_SERIES_TITLE)[:300],
                             audience={}, position=1, created_at=now)
        db.session.add(first)
        db.session.flush()
    return first


def add_series(trust: Trust, *, title: str, slug: str, roles=(), academies=(), now: datetime) -> PolicySeries:
    """A further policy of the trust (e.g. acceptable use) with its audience: role keys and academy slugs, each
    empty for everyone. Refused for an empty title, a bad or taken slug, or an unknown role or academy."""
    import re

    from modules.people.models import Academy, Role

    title = " ".join((title or "").split())
    if not title:
        raise SeriesError("Enter the policy's title", field="title")
    if len(title) > 300:
        raise SeriesError("The title must be 300 characters or fewer", field="title")
    slug = (slug or "").strip().lower()
    if not re.fullmatch(SERIES_SLUG, slug):
        raise SeriesError("Enter a short name of lower-case letters, digits and hyphens, e.g. acceptable-use",
                          field="slug")
    if db.session.scalar(select(PolicySeries.id).where(PolicySeries.trust_id == trust.id, PolicySeries.slug == slug)):
        raise SeriesError(f"The trust already has a policy with the short name “{slug}”", field="slug")
    known_roles = set(db.session.scalars(select(Role.key).where(Role.trust_id == trust.id)))
    known_academies = set(db.session.scalars(select(Academy.slug).where(Academy.trust_id == trust.id)))
    if set(roles) - known_roles:
        raise SeriesError(f"The trust has no role {sorted(set(roles) - known_roles)[0]!r}", field="roles")
    if set(academies) - known_academies:
        raise SeriesError(f"The trust has no academy {sorted(set(academies) - known_academies)[0]!r}",
                          field="academies")
    ensure_default_series(trust, now=now)
    position = (db.session.scalar(select(func.max(PolicySeries.position))
                                  .where(PolicySeries.trust_id == trust.id)) or 0) + 1
    series = PolicySeries(trust_id=trust.id, slug=slug, title=title, position=position, created_at=now,
                          audience={"roles": sorted(set(roles)), "academies": sorted(set(academies))})
    db.session.add(series)
    db.session.flush()
    return series


def sync_series(trust: Trust, listed, *, now: datetime, where: str) -> None:
    """The trust's series as trusts.yaml lists them under `policy: series:` ([{slug, title, audience: {roles,
    academies}}]; the first is the one content files are loaded into): missing ones are added, titles and
    audiences updated. Then `register_policy` must name one of them. ContentError naming the key, else."""
    if listed is not None and not isinstance(listed, list):
        raise ContentError(f"{where}, policy.series: must be a list of policies")
    if not listed:
        ensure_default_series(trust, now=now)
    for i, item in enumerate(listed or []):
        key = f"{where}, policy.series[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("slug"), str) or not isinstance(item.get("title"), str):
            raise ContentError(f"{key}: each policy needs a 'slug' and a 'title'")
        audience = item.get("audience") or {}
        if not isinstance(audience, dict) or set(audience) - {"roles", "academies"}:
            raise ContentError(f"{key}.audience: may give only 'roles' and 'academies' (lists)")
        roles, academies = list(audience.get("roles") or []), list(audience.get("academies") or [])
        existing = db.session.scalar(select(PolicySeries).where(PolicySeries.trust_id == trust.id,
                                                                PolicySeries.slug == item["slug"]))
        if existing is None and i == 0 and not db.session.scalar(
                select(PolicySeries.id).where(PolicySeries.trust_id == trust.id)):
            existing = ensure_default_series(trust, now=now)
            existing.slug = item["slug"]
        try:
            if existing is None:
                add_series(trust, title=item["title"], slug=item["slug"], roles=roles, academies=academies, now=now)
            else:
                existing.title = " ".join(item["title"].split())[:300] or existing.title
                existing.audience = {"roles": sorted(set(roles)), "academies": sorted(set(academies))}
        except SeriesError as exc:
            raise ContentError(f"{key}.{exc.field}: {exc.message}") from exc
    db.session.flush()
    slug = trust.rules.register_policy
    if slug and not db.session.scalar(select(PolicySeries.id).where(PolicySeries.trust_id == trust.id,
                                                                    PolicySeries.slug == slug)):
        raise ContentError(f"{where}, rules.register_policy: the trust has no policy {slug!r}")


def create_version(trust: Trust, *, source_file: str, raw: bytes, now: datetime,
                   publish_first: bool = True, series: PolicySeries | None = None) -> PolicyVersion:
    """Parse a source and add it as the next version of a series (default: the trust's first), published if it
    is the series' first, unless `publish_first` is false: content sync publishes it only once its quiz passes the
    publishing gate."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"{source_file}: not UTF-8 text") from exc
    try:
        parsed = parse_policy(text)
    except PolicyParseError as exc:
        raise ContentError(f"{source_file}: {exc}") from exc
    series = series or ensure_default_series(trust, now=now, title=parsed.title)
    version = _add_version(trust, parsed, source_file=source_file, sha256=hashlib.sha256(raw).hexdigest(),
                           text=text, now=now, series=series)
    has_published = db.session.scalar(select(func.count()).select_from(PolicyVersion).where(
        PolicyVersion.trust_id == trust.id, PolicyVersion.series_id == series.id,
        PolicyVersion.status == "published"))
    db.session.flush()
    if not has_published and publish_first:
        publish_version(version, now=now)
    return version


def _add_version(trust: Trust, parsed: ParsedPolicy, *, source_file: str, sha256: str, text: str,
                 now: datetime, series: PolicySeries) -> PolicyVersion:
    """Add a parsed policy as the next version of one of the trust's series, a draft, with its sections and
    clauses (`number` runs across the trust's series and orders them; `series_number` names it in its series)."""
    number = (db.session.scalar(select(func.max(PolicyVersion.number)).where(PolicyVersion.trust_id == trust.id))
              or 0) + 1
    series_number = (db.session.scalar(select(func.max(PolicyVersion.series_number))
                                       .where(PolicyVersion.series_id == series.id)) or 0) + 1
    version = PolicyVersion(trust_id=trust.id, series_id=series.id, number=number, series_number=series_number,
                            title=parsed.title,
                            source_file=source_file,
                            source_sha256=sha256, source_text=text,
                            status="draft", stated_dates=dict(parsed.dates),
                            next_review_on=review_due(parsed.dates.get("next_review")), created_at=now)
    db.session.add(version)
    position = 0
    for index, parsed_section in enumerate(parsed.sections, start=1):
        clauses = [{"ref": c.ref, "parent": c.parent, "text": c.text, "modality": c.modality}
                   for c in parsed_section.clauses]
        kind = section_kind(parsed_section.number, parsed_section.title, clauses)
        section = Section(position=index, number=parsed_section.number, title=parsed_section.title, kind=kind,
                          html=render_section(parsed_section.number, clauses, kind=kind),
                          reading_minutes=reading_minutes(clauses),
                          has_obligation=any(c["modality"] in OBLIGATIONS for c in clauses))
        version.sections.append(section)
        for clause in clauses:
            position += 1
            section.clauses.append(Clause(version=version, position=position, ref=clause["ref"],
                                          parent_ref=clause["parent"], text=clause["text"],
                                          modality=clause["modality"]))
    db.session.flush()
    return version


def refresh_rendering(version: PolicyVersion) -> bool:
    """Re-render the version's sections from their stored clauses (HTML and form detection only; the words,
    refs and modalities are never touched). True if anything changed, e.g. after the renderer improved."""
    changed = False
    for section in version.sections:
        clauses = [{"ref": c.ref, "parent": c.parent_ref, "text": c.text, "modality": c.modality}
                   for c in section.clauses]
        kind = section_kind(section.number, section.title, clauses)
        html = render_section(section.number, clauses, kind=kind)
        if (section.kind, section.html) != (kind, html):
            section.kind, section.html = kind, html
            changed = True
    return changed


def publish_version(version: PolicyVersion, *, now: datetime) -> None:
    """Make a version its series' current one; the previous one of the series becomes superseded."""
    if version.status == "published":
        return
    for old in db.session.scalars(select(PolicyVersion).where(PolicyVersion.trust_id == version.trust_id,
                                                              PolicyVersion.series_id == version.series_id,
                                                              PolicyVersion.status == "published")):
        old.status = "superseded"
    version.status = "published"
    version.published_at = now
    starts = (datetime.combine(version.effective_on, time(0), LONDON).astimezone(UTC).replace(tzinfo=None)
              if version.effective_on else now)
    version.in_force_at = max(now, starts)
    db.session.flush()
    version_published.send(version, now=now)


def london_date(now: datetime) -> date:
    """The Europe/London calendar date of a stored (naive UTC) time."""
    return now.replace(tzinfo=UTC).astimezone(LONDON).date()


class VersionError(ValueError):
    """A publishing or review-date change was refused; the message is for HR and names the field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass
class PublishGaps:
    """Why a draft cannot be published to staff yet: its must / must-not clauses that no reviewed question examines
    and that are not excluded with a reason, as (ref, text), and any other problem (the draw cannot be filled)."""

    uncovered: list[tuple[str, str]]
    problems: list[str]


class PublishBlocked(VersionError):
    """Publishing was refused because the version's quiz is not ready (see PublishGaps)."""

    def __init__(self, version: PolicyVersion, gaps: PublishGaps):
        parts = []
        if gaps.uncovered:
            parts.append(f"{len(gaps.uncovered)} must or must-not clause{'s are' if len(gaps.uncovered) != 1 else ' is'}"
                         " not examined by a reviewed question or excluded with a reason")
        for problem in gaps.problems:  # joined with semicolons: only the first part starts with a capital
            parts.append((problem[:1].lower() + problem[1:] if parts else problem).rstrip("."))
        super().__init__(f"{version.label.capitalize()} cannot be published until its quiz is ready: "
                         + "; ".join(parts) + ".")
        self.gaps = gaps


#: How far ahead HR may set an effective date or a next review date.
MAX_EFFECTIVE_DAYS = 366
MAX_REVIEW_YEARS = 10


def publish_draft(version: PolicyVersion, *, effective_on: date, now: datetime,
                  gate: Callable[[PolicyVersion], PublishGaps | None] | None = None) -> bool:
    """HR publishes a draft from `effective_on` (a London date): it becomes current, the old one superseded.

    Idempotent: publishing a version that is already current changes nothing and returns False (no signal
    is sent again). A version that a later one replaced, or a draft older than the current version, is
    refused with VersionError; one whose quiz `gate` finds not ready (assessments' coverage rule, passed in by
    the view because policies may not import it) with PublishBlocked.
    """
    if version.status == "published":
        return False
    if version.status == "superseded":
        raise VersionError(f"{version.label.capitalize()} has been replaced by a later version, so it cannot be "
                           "published again.")
    current = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == version.trust_id,
                                                            PolicyVersion.series_id == version.series_id,
                                                            PolicyVersion.status == "published"))
    if current is not None and current.number > version.number:
        raise VersionError(f"{current.label.capitalize()} is newer and already published, so this older draft "
                           "cannot be published.")
    today = london_date(now)
    if not today <= effective_on <= today + timedelta(days=MAX_EFFECTIVE_DAYS):
        raise VersionError("The effective date must be today or later, and within a year", field="effective_on")
    gaps = gate(version) if gate is not None else None
    if gaps is not None:
        raise PublishBlocked(version, gaps)
    version.effective_on = effective_on
    publish_version(version, now=now)
    return True


def set_next_review(version: PolicyVersion, on: date, *, now: datetime) -> None:
    """HR sets when a version is next reviewed, instead of the date the document states."""
    if version.status == "superseded":
        raise VersionError(f"{version.label.capitalize()} has been replaced, so its review date no longer applies.")
    today = london_date(now)
    if not date(2000, 1, 1) <= on <= today.replace(year=today.year + MAX_REVIEW_YEARS):
        raise VersionError(f"The review date must be within {MAX_REVIEW_YEARS} years", field="next_review_on")
    version.next_review_on = on
    version.next_review_set_on = today
    db.session.flush()


#: Where the app keeps the check that a draft's quiz is ready to publish (assessments' answer, passed in by
#: modules/wiring.py through policies.views.use_publish_gate).
PUBLISH_GATE = "policypass.publish_gate"


def _gaps_note(slug: str, name: str, version: PolicyVersion, gaps: PublishGaps) -> str:
    uncovered = ", ".join(ref for ref, _text in gaps.uncovered[:12]) + (" …" if len(gaps.uncovered) > 12 else "")
    parts = ([f"{len(gaps.uncovered)} must / must-not clause{'s' if len(gaps.uncovered) != 1 else ''} neither "
              f"examined by a reviewed question nor left out with a reason: {uncovered}"] if gaps.uncovered else [])
    parts += [p.rstrip(".") for p in gaps.problems]
    return (f"{slug}: {name} is loaded as {version.label}, a draft, and NOT published to staff: its quiz is not "
            f"ready ({'; '.join(parts)}). Write and review its questions on the version's quiz page (or in "
            f"quizzes/{slug}.yaml), then publish it.")


def sync_content(content_dir: Path, *, now: datetime, app=None,
                 earlier: dict[str, list[tuple[str, Path]]] | None = None,
                 rules_from_file: bool = False) -> SyncReport:
    """Load trusts, roles and every policy source listed in trusts.yaml; unchanged files change nothing.

    `earlier` (only `flask demo seed` passes it) maps a trust slug to (name, path) sources loaded before the
    listed ones, as the trust's first versions, when the trust has no version yet.

    A trust's first version is published only once the quiz banks are loaded and its quiz passes the publishing
    gate (every must / must-not clause examined or left out, the draw filled); otherwise it stays a draft and the
    report's warnings say why.

    A trust's rules come from trusts.yaml when it is first loaded, and again on every sync until someone changes
    them on the rules page: from then on the database's rules are kept (the report says so, naming the rules the
    file would change) unless `rules_from_file`, which replaces them with the file's (audited).
    """
    config = load_trusts_yaml(content_dir)
    path = content_dir / "trusts.yaml"
    checked = {entry["slug"]: check_rules(path, config, entry) for entry in config["trusts"]}
    report = SyncReport()
    first: list[tuple[str, str, PolicyVersion, int]] = []  # trust slug, file, first version, its created line
    for entry in config["trusts"]:
        existing = db.session.scalar(select(Trust).where(Trust.slug == entry["slug"]))
        differs = existing is not None and dict(entry.get("rules") or {}) != dict(existing.settings or {})
        edited = differs and rules_edited_here(existing)
        keep = edited and not rules_from_file
        trust = sync_trust(config, entry, keep_rules=keep)
        if keep:
            checked[trust.slug] = trust.rules
            file_rules, kept = dict(entry.get("rules") or {}), dict(trust.settings or {})
            keys = sorted(k for k in set(file_rules) | set(kept) if file_rules.get(k) != kept.get(k))
            report.warnings.append(
                f"{trust.slug}: kept the rules changed in PolicyPass on the rules page; trusts.yaml differs on "
                f"{', '.join(keys)}. Run `flask content sync --rules-from-file` to replace them with the file's "
                f"(or `flask trust export {trust.slug}` to copy them into the file).")
        elif edited:
            record_event("rules-loaded-from-file", now=now, trust_id=trust.id, target="content/trusts.yaml",
                         details={"from": "trusts.yaml"})
            report.warnings.append(f"{trust.slug}: the rules changed in PolicyPass are replaced by trusts.yaml's "
                                   "(--rules-from-file).")
        report.trusts.append(trust.slug)
        report.warnings.extend(rule_warnings(trust))
        fresh = not db.session.scalar(select(PolicyVersion.id).where(PolicyVersion.trust_id == trust.id).limit(1))
        sync_series(trust, entry["policy"].get("series"), now=now, where=f"{path}, trust {trust.slug}")
        sources = [(name, source, True) for name, source in (earlier or {}).get(trust.slug, [])]
        sources += [(listed["file"], content_dir / listed["file"], False)
                    for listed in entry["policy"].get("versions", [])]
        versions = []
        for name, source, is_earlier in sources:
            try:
                raw = source.read_bytes()
            except OSError as exc:
                raise ContentError(f"{source}: {exc.strerror}") from exc
            sha = hashlib.sha256(raw).hexdigest()
            known = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == trust.id,
                                                                  PolicyVersion.source_sha256 == sha))
            if known is not None:
                refresh_rendering(known)
                report.unchanged.append(f"{trust.slug}: {name}")
                versions.append(known)
                continue
            if is_earlier and not fresh:
                report.skipped.append(f"{trust.slug}: {name} (the trust already has versions)")
                continue
            unpublished = not db.session.scalar(select(PolicyVersion.id).where(
                PolicyVersion.trust_id == trust.id, PolicyVersion.status == "published").limit(1))
            version = create_version(trust, source_file=name, raw=raw, now=now, publish_first=False)
            versions.append(version)
            if unpublished and not any(f[2].trust_id == trust.id for f in first):
                first.append((trust.slug, name, version, len(report.created)))
            report.created.append(f"{trust.slug}: {name} → {version.label} ({version.status})")
        check_clauses(path, trust.slug, checked[trust.slug], versions)
    content_synced.send(app, content_dir=content_dir, now=now)
    gate = (app.extensions.get(PUBLISH_GATE) if app is not None else None)
    for slug, name, version, line in first:
        gaps = gate(version) if gate is not None else None
        if gaps is None:
            publish_version(version, now=now)
            report.created[line] = f"{slug}: {name} → {version.label} ({version.status})"
        else:
            report.warnings.append(_gaps_note(slug, name, version, gaps))
    return report


# -- uploads: a file read, checked and corrected by HR, then saved as a draft ------------------------------


class UploadError(ValueError):
    """An upload, correction or save was refused; the message says what to fix and names the field, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


@dataclass
class Preview:
    """What HR checks before saving: the lines read, the structure found (or why none), and the warnings."""

    lines: list[str]
    parsed: ParsedPolicy | None
    error: str | None
    warnings: list[str]
    #: corrections that no longer match their line (left out)
    stale: list[dict]


def upload_source(trust: Trust, user, *, filename: str, data: bytes, now: datetime,
                  series: PolicySeries | None = None) -> PolicySource:
    """Store an uploaded file byte-identical (once per trust and content: the same file finds its corrections),
    for one of the trust's series (default: its first)."""
    try:
        extracted = read_source(data)
    except SourceError as exc:
        raise UploadError(str(exc), field="file") from exc
    sha = hashlib.sha256(data).hexdigest()
    source = db.session.scalar(select(PolicySource).where(PolicySource.trust_id == trust.id,
                                                          PolicySource.sha256 == sha))
    if source is None:
        source = PolicySource(trust_id=trust.id, sha256=sha, filename=(filename or "policy")[:255],
                              kind=extracted.kind, data=data, overlay=[], uploaded_by_id=user.id,
                              created_at=now, updated_at=now)
        db.session.add(source)
    if series is not None or source.series_id is None:
        source.series_id = (series or ensure_default_series(trust, now=now)).id
    source.updated_at = now
    db.session.flush()
    return source


def _read(source: PolicySource) -> tuple[str, list[str]]:
    """The text read from a stored source, and the notes reading it made."""
    extracted = read_source(source.data)
    return extracted.text, extracted.notes


def preview(source: PolicySource) -> Preview:
    """Read the source, apply HR's corrections and parse: never raises for an unreadable structure."""
    text, notes = _read(source)
    corrected, stale = overlays.apply(text, source.overlay or [])
    try:
        parsed = parse_policy(corrected)
    except PolicyParseError as exc:
        return Preview(text.splitlines(), None, str(exc), notes, stale)
    return Preview(text.splitlines(), parsed, None, notes + parsed.warnings, stale)


def add_correction(source: PolicySource, *, op: str, line: int | None, to: int | None, ref: str,
                   now: datetime) -> dict:
    """Add one structure correction to the source's overlay (the file itself never changes)."""
    text, _ = _read(source)
    try:
        item = overlays.entry(text.splitlines(), op, line, to, ref)
    except overlays.OverlayError as exc:
        raise UploadError(exc.message, field=exc.field) from exc
    if any(existing.get("op") == item["op"] and existing.get("line") == item["line"]
           for existing in source.overlay or []):
        raise UploadError(f"That correction to line {item['line']} is already made.", field="line")
    source.overlay = [*(source.overlay or []), item]
    source.updated_at = now
    db.session.flush()
    return item


def remove_correction(source: PolicySource, index: int, *, now: datetime) -> None:
    """Take one correction out of the overlay."""
    current = list(source.overlay or [])
    if not 0 <= index < len(current):
        raise UploadError("That correction has already been removed.")
    del current[index]
    source.overlay = current
    source.updated_at = now
    db.session.flush()


def save_draft(source: PolicySource, *, now: datetime) -> PolicyVersion:
    """Save the checked upload as the trust's next version, a draft for HR to publish."""
    existing = db.session.scalar(select(PolicyVersion).where(PolicyVersion.trust_id == source.trust_id,
                                                             PolicyVersion.source_sha256 == source.sha256))
    if existing is not None:
        raise UploadError(f"This file is already {existing.label}; a changed file becomes a new version.")
    text, _ = _read(source)
    corrected, _stale = overlays.apply(text, source.overlay or [])
    try:
        parsed = parse_policy(corrected)
    except PolicyParseError as exc:
        raise UploadError(f"The document cannot be saved until its structure can be read: {exc}") from exc
    trust = db.session.get(Trust, source.trust_id)
    series = (db.session.get(PolicySeries, source.series_id) if source.series_id
              else ensure_default_series(trust, now=now))
    # The version keeps the text its structure was read from (with the corrections); the bytes stay in the source.
    version = _add_version(trust, parsed, source_file=f"upload: {source.filename}"[:300], sha256=source.sha256,
                           text=corrected, now=now, series=series)
    return version
