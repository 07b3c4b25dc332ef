"""No code under modules/ may branch on a trust, a seed file or a phrase copied from a seed: the parser
and everything else must be general, with per-trust differences kept as data (content/trusts.yaml).

Docstrings and comments may mention a trust as an example; names and string literals in code may not.
"""

import ast
import re
from pathlib import Path

import pytest

MODULES = Path(__file__).resolve().parents[2] / "modules"

#: trust names, slugs and people named in the seeds
TRUST_WORDS = re.compile(
    r"\b(?:tkat|e-?act|tasmat|tsat|agora|kemnal|torfield|saxon\s+mount|thinking\s+schools|"
    r"little\s+thinkers|tsfe|humayon|pramanik)\b",
    re.I,
)
#: distinctive seed wording and stray characters that only a seed-specific hack would contain
SEED_PHRASES = [
    "putting activity on hold",
    "authorised users of",
    "site creation approval form",
    "transforming life chances",
    "onetkatfamily",
    "marcus blog",
    "elevant sro",
    "αa",
    "a\tpendix",
    "del.icio.us",
    "creation of sites",
    "whatsapp",
    "director of communications",
    "policy first issued",
    "next policy review date",
    "date of approval",
    "this policy was adopted on",
    "breaches of the policy",
    "9.4.1",
    "4.3.2",
    "a 4.11",
    "a. 1.8",
    "000_",
    "548ecac1",
]


def _docstring_nodes(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def code_words(source: str) -> list[tuple[int, str]]:
    """(line, text) of every identifier, attribute and non-docstring string literal in the source."""
    tree = ast.parse(source)
    docstrings = _docstring_nodes(tree)
    words = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            words.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            words.append((node.lineno, node.attr))
        elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            words.append((node.lineno, node.name))
    return words


def violations(source: str) -> list[str]:
    """Trust names or seed phrases used in code (not prose) in the source."""
    found = []
    for line, text in code_words(source):
        lowered = text.lower()
        match = TRUST_WORDS.search(text)
        if match:
            found.append(f"line {line}: trust name {match.group(0)!r}")
        for phrase in SEED_PHRASES:
            if phrase in lowered:
                found.append(f"line {line}: seed phrase {phrase!r}")
    return found


def test_scanner_catches_a_seed_branch():
    """The scanner flags a trust-specific branch but not a docstring or comment that names a trust."""
    bad = 'def f(slug):\n    """For TKAT."""\n    if slug == "tkat":\n        return "Putting activity on hold"\n'
    assert len(violations(bad)) == 2
    assert violations('def f():\n    """Example: e-act, 4.3.2."""\n    return 1  # TaSMAT\n') == []


@pytest.mark.parametrize("path", sorted(MODULES.rglob("*.py")), ids=lambda p: str(p.relative_to(MODULES)))
def test_module_has_no_seed_specific_code(path):
    """No names or string literals under modules/ mention a trust or copy a seed's wording."""
    assert violations(path.read_text(encoding="utf-8")) == []
