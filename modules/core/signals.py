"""Signals by which an earlier package tells later ones that something happened, without importing them.

Receivers are connected in one place, `modules/wiring.py`, and are called in the order they are connected
there (the order of the walk), not in blinker's default unordered way. Connecting a receiver again (every
`create_app` wires) changes nothing: blinker keeps one connection per receiver.
"""

from blinker import NamedSignal
from ordered_set import OrderedSet


class WalkSignal(NamedSignal):
    """A blinker signal that calls its receivers in the order they were connected."""

    set_class = OrderedSet


#: Every signal the packages define, by name (a test checks that modules/wiring.py connects each one).
ALL: dict[str, WalkSignal] = {}


def signal(name: str, doc: str | None = None) -> WalkSignal:
    """The signal called `name` (a sender's package defines it; modules/wiring.py connects its receivers)."""
    if name not in ALL:
        ALL[name] = WalkSignal(name, doc)
    return ALL[name]
