"""Register vocabulary that is not a trust rule: account roles and request kinds.

A trust's register rules (approval chain, minimums, forbidden requests, platforms, the request form, register
columns, the credentials note) are part of its one typed rules object, `trust.rules` (modules/people/rules.py),
checked by `flask content sync`.
"""

from modules.people.rules import Step, chain_from

#: Roles a person can hold on an official account, with their labels.
ACCOUNT_ROLES = {"administrator": "Administrator", "moderator": "Moderator", "publisher": "Publisher"}
#: Request kinds: join an existing account, or set up a new account or site.
JOIN, NEW_ACCOUNT = "join", "new_account"


def steps_from_snapshot(snapshot: list[dict]) -> tuple[Step, ...]:
    """The steps of a chain stored with a request when it was made."""
    return chain_from(snapshot, key="request chain")
