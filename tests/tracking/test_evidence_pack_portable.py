"""Issue 17 point 9: the evidence pack lists everyone in scope with their status, has a summary an inspector
opens, and its ledger is checked without the server by running the README's own commands (openssl and
python3) in the unzipped pack; tampering makes each check fail."""

import csv
import io
import json
import re
import subprocess
import zipfile
from datetime import date

import pytest

from modules.attestation import services as attestation
from modules.core.extensions import db
from modules.tracking import actions, services
from modules.training.queries import current_version
from tests.attestation.factories import key, origin, passed_attempt
from tests.conftest import NOW
from tests.tracking.factories import acknowledge, current, demo_user, trust


@pytest.fixture
def statuses(app):
    """TKAT staff in every status: two complete, one overdue, one exempt, one declined, the rest due."""
    services.ensure_assignments(trust(), now=NOW)
    acknowledge(demo_user("teacher"), NOW)
    acknowledge(demo_user("staff2"), NOW)
    current(demo_user("staff")).due_on = date(2026, 11, 1)
    actions.exempt(demo_user("hr"), demo_user("office"), reason="Long-term absence", now=NOW)
    manager = demo_user("manager")
    passed_attempt(manager, now=NOW)
    attestation.decline(manager, current_version(manager.trust_id), idempotency_key=key(), origin=origin(NOW), now=NOW)
    db.session.commit()


def _unzip(client, tmp_path, academy=None):
    response = client.get("/tracking/evidence/pack.zip" + (f"?academy={academy}" if academy else ""))
    assert response.status_code == 200
    folder = tmp_path / "pack"
    zipfile.ZipFile(io.BytesIO(response.data)).extractall(folder)
    return folder


def _commands(readme: str) -> tuple[str, str]:
    """The openssl and python3 commands exactly as the README gives them."""
    openssl = re.search(r"^\s+(openssl pkeyutl .+)$", readme, re.M).group(1)
    chain = re.search(r"^\s+(python3 ledger/verify_chain\.py.*)$", readme, re.M).group(1)
    return openssl, chain


def _run(command: str, folder) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=folder, capture_output=True, text=True, timeout=120)


def test_everyone_in_scope_is_listed_with_their_status(statuses, client, login, tmp_path):
    login("hr", "tkat")
    folder = _unzip(client, tmp_path)
    rows = list(csv.DictReader(io.StringIO((folder / "people.csv").read_text(encoding="utf-8"))))
    status = {r["Name"]: r[next(k for k in r if k.startswith("Status on"))] for r in rows}
    assert len(rows) == 12, "every active person of the trust, not only those with records"
    assert status["Priya Shah"] == status["Jack Wilson"] == "Completed"
    assert status["Sam Taylor"] == "Overdue"
    assert status["Tom Reid"] == "Exempt"
    assert status["Martin Lowe"] == "Declined"
    assert status["Helen Osei"] == "Due"
    sam = next(r for r in rows if r["Name"] == "Sam Taylor")
    assert sam["Overdue since"] == "2026-11-02" and sam["Due on"] == "2026-11-01"
    summary = (folder / "summary.html").read_text(encoding="utf-8")
    assert "Evidence pack: The Kemnal Academies Trust" in summary
    for label, count in (("complete", 2), ("overdue", 1), ("exempt", 1), ("declined", 1)):
        assert f'data-status="{label}">{count}<' in summary, label
    assert "<script" not in summary and "http" not in summary.split("</style>")[0]


def test_an_academy_pack_lists_only_that_academys_people(statuses, client, login, tmp_path):
    login("hr", "tkat")
    riverside = demo_user("staff2").academy_id
    folder = _unzip(client, tmp_path, academy=riverside)
    names = {r["Name"] for r in csv.DictReader(io.StringIO((folder / "people.csv").read_text(encoding="utf-8")))}
    assert names == {"Grace Boateng", "Jack Wilson"}


def test_the_readme_commands_check_the_ledger_without_the_server(statuses, client, login, tmp_path):
    login("hr", "tkat")
    folder = _unzip(client, tmp_path)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    openssl, chain = _commands(readme)
    signed = _run(openssl, folder)
    assert signed.returncode == 0 and "Signature Verified Successfully" in signed.stdout, signed
    walked = _run(chain, folder)
    assert walked.returncode == 0 and walked.stdout.startswith("OK"), walked
    sums = _run("sha256sum -c MANIFEST.sha256", folder)
    assert sums.returncode == 0 and "FAILED" not in sums.stdout
    head = json.loads((folder / "ledger" / "checkpoint-payload.json").read_text())["heads"][0]
    entries = (folder / "ledger" / "entries.jsonl").read_text().splitlines()
    assert head["seq"] == len(entries) == json.loads(entries[-1])["seq"] > 3
    assert "@" not in (folder / "ledger" / "entries.jsonl").read_text(), "no personal data in the ledger export"

    # An altered entry breaks the walk; an altered checkpoint breaks the signature.
    lines = [json.loads(line) for line in entries]
    lines[1]["record_hash"] = "0" * 64
    (folder / "ledger" / "entries.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    broken = _run(chain, folder)
    assert broken.returncode == 1 and "entry 2" in broken.stdout, broken
    payload = (folder / "ledger" / "checkpoint-payload.json").read_bytes()
    (folder / "ledger" / "checkpoint-payload.json").write_bytes(payload.replace(b'"seq":', b'"seq":1'))
    forged = _run(openssl, folder)
    assert forged.returncode != 0 and "Signature Verified Successfully" not in forged.stdout


def test_a_dropped_entry_or_an_uncited_record_is_caught(statuses, client, login, tmp_path):
    login("hr", "tkat")
    folder = _unzip(client, tmp_path)
    _, chain = _commands((folder / "README.txt").read_text(encoding="utf-8"))
    entries = (folder / "ledger" / "entries.jsonl").read_text().splitlines()
    (folder / "ledger" / "entries.jsonl").write_text("\n".join(entries[:-1]) + "\n")  # truncated
    result = _run(chain, folder)
    assert result.returncode == 1 and "signed head" in result.stdout, result


def test_the_packs_checkpoint_passes_flask_ledger_verify(statuses, app, client, login, tmp_path):
    """The same checkpoint works on the server too, with the pinned public key from the pack."""
    login("hr", "tkat")
    folder = _unzip(client, tmp_path)
    result = app.test_cli_runner().invoke(args=[
        "ledger", "verify", "--trust", "tkat", "--checkpoint", str(folder / "ledger" / "checkpoint.json"),
        "--public-key", str(folder / "ledger" / "public-key.pem")])
    assert result.exit_code == 0 and "against the checkpoint" in result.output, result.output
