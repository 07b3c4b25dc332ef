"""Long work run by the queue's worker, with its progress kept where the page can read it.

An evidence pack for a whole trust, HR's bulk reminder and a staff import of thousands of rows can take longer
than a request should. The view
starts a job: a random id, its state ({"kind", "trust_id", "user_id", "status", "done", "total", "step"}) put
in the Huey store, and a "tracking_job" task queued. The worker runs it, updating the state as it goes; the
job page reads the state (polling politely with static/js/job.js, or refreshing itself without JavaScript)
until it is done. A finished pack is kept as a file under instance/jobs/ for its download. With
HUEY_IMMEDIATE (tests) the task runs at once, in the same process.
"""

import json
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app, g

from modules.core.extensions import db
from modules.core.timeutil import utcnow
from modules.notifications import queue
from modules.notifications.hooks import hand_over
from modules.people.models import Academy, Trust, User

log = logging.getLogger(__name__)

KINDS = {"evidence_pack": "Evidence pack", "bulk_remind": "Reminders to a list of staff",
         "staff_import": "Staff import"}
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


def _key(job_id: str) -> str:
    return f"policypass-job:{job_id}"


def job_folder(app: Flask) -> Path:
    """Where finished jobs keep their files (instance/jobs)."""
    return Path(app.instance_path) / "jobs"


def read(job_id: str, app: Flask | None = None) -> dict | None:
    """A job's state, or None when there is no such job."""
    if not job_id.replace("-", "").replace("_", "").isalnum() or len(job_id) > 64:
        return None
    raw = queue.get_queue(app).get(_key(job_id), peek=True)
    return json.loads(raw) if raw else None


def _write(job_id: str, state: dict, app: Flask | None = None) -> None:
    queue.get_queue(app).put(_key(job_id), json.dumps(state))


def register(app: Flask):
    """Register the job task with the app's queue (web process and worker alike); returns it."""
    huey = queue.get_queue(app)
    task = getattr(huey, "policypass_job", None)
    if task is None:
        @huey.task(name="tracking_job")
        def tracking_job(job_id: str) -> str:
            """Run one job to the end, recording its progress; returns its final status."""
            with app.app_context():
                try:
                    return _run(app, job_id)
                finally:
                    db.session.remove()

        huey.policypass_job = task = tracking_job
    return task


def start(kind: str, *, user: User, now: datetime, **params) -> str:
    """Record a queued job of `kind` for `user` and queue it; returns the job's id."""
    app = current_app._get_current_object()
    job_id = secrets.token_urlsafe(16)
    _write(job_id, {"kind": kind, "trust_id": user.trust_id, "user_id": user.id, "status": QUEUED, "done": 0,
                    "total": 0, "step": "Waiting for the worker to start", "params": params,
                    "created_at": now.isoformat(timespec="seconds"), "result": None}, app)
    register(app)(job_id)
    return job_id


def start_import(*, user: User, now: datetime, **params) -> str:
    """Start applying a previewed staff file in the worker (people's import page, passed in by modules/wiring.py):
    params `upload`, `fingerprint`, `full`, `confirm_leavers`, `academy_ids`; returns the job's id."""
    return start("staff_import", user=user, now=now, **params)


def _run(app: Flask, job_id: str) -> str:
    state = read(job_id, app)
    if state is None or state["status"] in (DONE, FAILED):
        return state["status"] if state else FAILED

    def progress(done: int, total: int, step: str) -> None:
        state.update(status=RUNNING, done=done, total=total, step=step)
        _write(job_id, state, app)

    progress(0, 1, "Starting")
    try:
        if state["kind"] == "evidence_pack":
            state["result"] = _evidence_pack(app, job_id, state, progress)
        elif state["kind"] == "bulk_remind":
            state["result"] = _bulk_remind(state, progress)
        elif state["kind"] == "staff_import":
            state["result"] = _staff_import(state, progress)
        else:
            raise ValueError(f"unknown job kind {state['kind']!r}")
    except Exception:  # the job page says it failed; the log has why
        log.exception("job %s (%s) failed", job_id, state["kind"])
        db.session.rollback()
        state.update(status=FAILED, step="It did not finish. Try again; if it fails again, tell your administrator.")
        _write(job_id, state, app)
        return FAILED
    state.update(status=DONE, done=state["total"] or 1, total=state["total"] or 1, step="Done")
    _write(job_id, state, app)
    # The emails the job wrote (reminders, set-password links) are committed: deliver them as a request would.
    hand_over(app, g.pop("outbox_queued", None))
    return DONE


def _evidence_pack(app: Flask, job_id: str, state: dict, progress) -> dict:
    from modules.tracking.evidence_pack import build_pack

    trust = db.session.get(Trust, state["trust_id"])
    academy_id = state["params"].get("academy_id")
    academy = db.session.get(Academy, academy_id) if academy_id else None
    pack = build_pack(trust, academy, now=utcnow(), progress=progress)
    folder = job_folder(app)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{job_id}.zip").write_bytes(pack.data)
    return {"filename": pack.filename, "bytes": len(pack.data)}


def _bulk_remind(state: dict, progress) -> dict:
    from modules.tracking import actions

    actor = db.session.get(User, state["user_id"])
    ids = list(state["params"]["user_ids"])
    summaries = []
    for start_at in range(0, len(ids), 25):
        people = [db.session.get(User, i) for i in ids[start_at:start_at + 25]]
        outcome = actions.for_everyone("remind", actor, [p for p in people if p is not None], now=utcnow())
        db.session.commit()  # each batch's outbox rows exist before the next; the unique guard stops repeats
        summaries.append(outcome)
        reached = min(start_at + 25, len(ids))
        progress(reached, len(ids), f"Reminded {reached} of {len(ids)} people")
    done = sum(o.done for o in summaries)
    already = sum(o.already for o in summaries)
    return {"summary": f"{done} reminder(s) on their way; {already} already reminded today."}


def _staff_import(state: dict, progress) -> dict:
    """Check the file again, then apply it in one transaction: a file refused, changed since HR's preview, or
    failing part-way imports nothing. The result lists every row not imported, with its reasons."""
    from modules.people import importer

    actor = db.session.get(User, state["user_id"])
    params = state["params"]
    data = importer.load_upload(params["upload"], actor)
    if data is None:
        return {"refused": "That upload has expired or was already imported, so nothing was imported. "
                           "Upload the file again."}
    progress(0, 1, "Checking every row of the file")
    allowed = set(params["academy_ids"]) if params.get("academy_ids") is not None else None
    try:
        plan = importer.plan_import(actor.trust, data, full=params["full"], actor=actor, allowed_academy_ids=allowed)
    except importer.ImportFileError as exc:
        return {"refused": f"Nothing was imported: {exc}"}
    if plan.fingerprint != params["fingerprint"]:
        return {"refused": "Staff records changed since you checked the file, so nothing was imported. Upload "
                           "the file again to see what changed."}
    result = importer.apply_import(plan, now=utcnow(), confirm_leavers=params["confirm_leavers"], progress=progress)
    db.session.commit()
    importer.discard_upload(params["upload"], actor)
    return {"created": len(result.created), "updated": result.updated, "reactivated": result.reactivated,
            "unchanged": result.unchanged, "left": result.left, "skipped": result.skipped,
            "not_added": result.not_added,
            "imported": len(result.created) + result.updated + result.reactivated + result.unchanged,
            "refused_rows": [{"line": row.line, "name": row.values.get("name", ""),
                              "email": row.values.get("email", ""), "errors": row.errors} for row in plan.bad]}


def prune_files(app: Flask, *, now: datetime) -> int:
    """Delete finished jobs' files older than JOB_FILES_KEEP_DAYS (the daily run); returns how many went.

    A pack holds staff names and emails, so it is not kept longer than its download needs."""
    folder = job_folder(app)
    if not folder.is_dir():
        return 0
    cutoff = now.replace(tzinfo=UTC).timestamp() - int(app.config["JOB_FILES_KEEP_DAYS"]) * 86400
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue  # another run removed it first
    return removed


def result_file(job_id: str, app: Flask | None = None) -> Path:
    """Where a finished evidence-pack job's ZIP is."""
    return job_folder(app or current_app) / f"{job_id}.zip"
