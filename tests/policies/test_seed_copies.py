"""The policies under content/ are byte-identical copies of the shared seeds."""

import hashlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"

#: slug -> seed file prefix, in the order the seeds README lists them
SEED_PREFIXES = {"tkat": "000_", "e-act": "001_", "tasmat": "002_", "tsat": "003_", "agora": "004_"}


def _sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("slug", sorted(SEED_PREFIXES))
def test_seed_copy_is_byte_identical(slug):
    """content/policies/<slug>.txt has the same sha256 as the shared seed it was copied from."""
    if not SHARED_SEEDS.is_dir():
        pytest.skip(f"shared seeds not present at {SHARED_SEEDS}")
    matches = sorted(SHARED_SEEDS.glob(f"{SEED_PREFIXES[slug]}*.txt"))
    assert len(matches) == 1, f"expected one seed starting {SEED_PREFIXES[slug]}, found {matches}"
    assert _sha256(REPO / "content" / "policies" / f"{slug}.txt") == _sha256(matches[0])
