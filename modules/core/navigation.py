"""The service navigation: each feature registers its entries once; people see those they may use."""

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_login import current_user


@dataclass(frozen=True)
class NavItem:
    """An entry in the service navigation."""

    label: str
    endpoint: str
    capability: str
    order: int


_ITEMS: dict[str, NavItem] = {}


def nav_item(label: str, endpoint: str, capability: str, order: int = 50) -> None:
    """Register a navigation entry shown to people holding the capability."""
    _ITEMS[endpoint] = NavItem(label, endpoint, capability, order)


def navigation() -> list[dict]:
    """The entries for the signed-in person, in GOV.UK service-navigation form."""
    if not current_user.is_authenticated:
        return []
    shown = [item for item in sorted(_ITEMS.values(), key=lambda i: (i.order, i.label))
             if item.endpoint in current_app.view_functions and current_user.can(item.capability)]
    exact = any(item.endpoint == request.endpoint for item in shown)
    items, marked = [], False
    for item in shown:
        # The entry for this page; failing that, the first entry of this page's feature.
        active = (item.endpoint == request.endpoint if exact
                  else not marked and request.blueprint == item.endpoint.split(".")[0])
        marked = marked or active
        items.append({"href": url_for(item.endpoint), "text": item.label, "active": active})
    return items
