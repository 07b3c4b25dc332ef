"""The service navigation: each feature registers its entries once; people see those they may use.

An entry may belong to a group (for example the HR tools): grouped entries are not shown in the top
navigation; the group stands for them there, as one entry leading to a hub page that lists those the person
may use, each with its hint (or, for a group with a landing endpoint, to that page). A group with `subnav`
also lists its entries as a sub-navigation on each of its pages. Groups keep the top navigation short: no role
sees more than MAX_TOP_ENTRIES entries (tests/core/test_navigation.py counts them for every role and trust).
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, g, request
from flask_login import current_user

from modules.core.links import fixed_url

#: The core route of a group's hub page (modules/core/views.py).
HUB_ENDPOINT = "core.tools"
#: The most entries anyone sees in the top navigation (more wrap onto several rows and stop being scannable).
MAX_TOP_ENTRIES = 7


@dataclass(frozen=True)
class NavItem:
    """An entry in the service navigation (or, when it has a group, on that group's hub page)."""

    label: str
    endpoint: str
    capability: str
    order: int
    group: str | None = None
    hint: str | None = None
    #: Shown only when this returns True for the signed-in person (e.g. only in trusts whose rules ask for it).
    when: Callable | None = None


@dataclass(frozen=True)
class NavGroup:
    """A set of entries shown in the top navigation as one entry leading to their hub page."""

    key: str
    label: str
    order: int
    #: Where the top entry leads; None: the group's hub page (/tools/<key>).
    endpoint: str | None = None
    #: Show the group's entries as a sub-navigation on its pages.
    subnav: bool = False


_ITEMS: dict[str, NavItem] = {}
_GROUPS: dict[str, NavGroup] = {}
#: _ITEMS in display order, sorted once (emptied when an entry is registered).
_SORTED: list[NavItem] = []


def nav_item(label: str, endpoint: str, capability: str, order: int = 50,
             group: str | None = None, hint: str | None = None, when: Callable | None = None) -> None:
    """Register a navigation entry shown to people holding the capability (on its group's hub, if grouped),
    and, when `when` is given, only to those for whom when(person) is true."""
    _ITEMS[endpoint] = NavItem(label, endpoint, capability, order, group, hint, when)
    _SORTED.clear()


def nav_group(key: str, label: str, order: int = 50, endpoint: str | None = None, subnav: bool = False) -> None:
    """Register a group's label, its place in the top navigation, where its entry leads (its hub page unless
    `endpoint` is given) and whether its pages show its entries as a sub-navigation."""
    _GROUPS[key] = NavGroup(key, label, order, endpoint, subnav)


def find_group(key: str) -> NavGroup | None:
    """The registered group with this key, or None."""
    return _GROUPS.get(key)


def usable_items(group: str | None = None) -> list[NavItem]:
    """The entries the signed-in person may use, in order; only one group's when a group is named."""
    if not current_user.is_authenticated:
        return []
    usable = _usable_for_request()
    return usable if group is None else [item for item in usable if item.group == group]


def _usable_for_request() -> list[NavItem]:
    # Once per request and person (every page renders the navigation and its sub-navigation, and a page may
    # render more than one template); worked out again when the person's roles change mid-request, since
    # User.capabilities_version moves then.
    person = current_user._get_current_object()
    key = (id(person), person.capabilities_version())
    cached = g.get("_pp_navigation")
    if cached is not None and cached[0] == key:
        return cached[1]
    if not _SORTED:
        _SORTED.extend(sorted(_ITEMS.values(), key=lambda i: (i.order, i.label)))
    usable = [item for item in _SORTED
              if item.endpoint in current_app.view_functions and person.can(item.capability)
              and (item.when is None or item.when(person))]
    g._pp_navigation = (key, usable)
    return usable


def _entry_key(item: NavItem) -> str:
    return f"group:{item.group}" if item.group else item.endpoint


def _active_key(usable: list[NavItem]) -> str | None:
    # The hub's own group; else the entry for this page; failing that, the first entry of this page's feature.
    if request.endpoint == HUB_ENDPOINT:
        return f"group:{(request.view_args or {}).get('group')}"
    for item in usable:
        if item.endpoint == request.endpoint:
            return _entry_key(item)
    for item in usable:
        if request.blueprint == item.endpoint.split(".")[0]:
            return _entry_key(item)
    return None


def navigation() -> list[dict]:
    """The entries for the signed-in person, in GOV.UK service-navigation form."""
    usable = usable_items()
    entries: dict[str, tuple] = {}
    for item in usable:
        key = _entry_key(item)
        if key in entries:
            continue
        if item.group:
            group = _GROUPS.get(item.group)
            if group is None:
                raise LookupError(f"navigation group {item.group!r} of {item.endpoint} is not registered")
            href = fixed_url(group.endpoint) if group.endpoint else fixed_url(HUB_ENDPOINT, group=group.key)
            entries[key] = (group.order, group.label, href)
        else:
            entries[key] = (item.order, item.label, fixed_url(item.endpoint))
    active = _active_key(usable)
    ordered = sorted(entries.items(), key=lambda pair: pair[1][:2])
    return [{"href": href, "text": label, "active": key == active} for key, (_, label, href) in ordered]


def section_navigation() -> dict | None:
    """On a page of a group with a sub-navigation: the group's label and entries (the current one marked)."""
    usable = usable_items()
    active = _active_key(usable)
    if not active or not active.startswith("group:"):
        return None
    group = _GROUPS.get(active.removeprefix("group:"))
    if group is None or not group.subnav:
        return None
    members = [item for item in usable if item.group == group.key]
    current = next((i.endpoint for i in members if i.endpoint == request.endpoint), None)
    if current is None:
        current = next((i.endpoint for i in members if request.blueprint == i.endpoint.split(".")[0]), None)
    return {"label": group.label,
            "items": [{"href": fixed_url(i.endpoint), "text": i.label, "active": i.endpoint == current}
                      for i in members]}
