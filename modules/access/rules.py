"""Register vocabulary that is not a trust rule: account roles and request kinds.

A trust's register rules (approval chain, minimums, forbidden requests, platforms, the request form, register
columns, the credentials note) are part of its one typed rules object, `trust.rules` (modules/people/rules.py),
checked by `flask content sync`.
"""

from dataclasses import dataclass
from itertools import combinations

from modules.people.rules import Step, TrustRules, chain_from

#: Roles a person can hold on an official account, with their labels.
ACCOUNT_ROLES = {"administrator": "Administrator", "moderator": "Moderator", "publisher": "Publisher"}
#: Request kinds: join an existing account, or set up a new account or site.
JOIN, NEW_ACCOUNT = "join", "new_account"


def steps_from_snapshot(snapshot: list[dict]) -> tuple[Step, ...]:
    """The steps of a chain stored with a request when it was made."""
    return chain_from(snapshot, key="request chain")


@dataclass(frozen=True)
class Shortfall:
    """One way a set of people falls short of the trust's minimums.

    `roles` holds one role for "too few administrators"; several for "too few different people", because one
    person counts once: someone who is both administrator and moderator fills only one of the places.
    """

    roles: tuple[str, ...]
    required: int
    have: int

    @property
    def missing(self) -> int:
        """How many more people this needs."""
        return self.required - self.have


def shortfalls(minimums: dict[str, int], people: dict[str, set]) -> list[Shortfall]:
    """What keeps `people` (role → set of person ids) from meeting `minimums`; empty when they are met.

    One person counts once: the places can be filled only if, for every group of roles with a minimum, the
    people holding any of them number at least the sum of their minimums (Hall's condition), so a person
    who is both administrator and moderator never counts twice. Single roles are reported first; a group is
    reported only when it needs more people than its roles' own shortfalls add up to.
    """
    roles = [role for role in ACCOUNT_ROLES if minimums.get(role)]
    found: list[Shortfall] = []
    for role in roles:
        have = len(people.get(role, set()))
        if have < minimums[role]:
            found.append(Shortfall((role,), minimums[role], have))
    for size in range(2, len(roles) + 1):
        for group in combinations(roles, size):
            required = sum(minimums[r] for r in group)
            have = len(set().union(*(people.get(r, set()) for r in group)))
            own = sum(s.missing for s in found if len(s.roles) == 1 and s.roles[0] in group)
            if required - have > own:
                found.append(Shortfall(group, required, have))
    return found


def people_needed(found: list[Shortfall]) -> int:
    """The fewest extra people that could meet every minimum (at least each shortfall's own need)."""
    singles = sum(s.missing for s in found if len(s.roles) == 1)
    return max([singles, *(s.missing for s in found)], default=0)


def role_name(rules: TrustRules, role: str) -> str:
    """What the trust's policy calls the holders of a role (plural), e.g. "administrative contacts"."""
    source = rules.minimum_sources.get(role)
    return source.label if source and source.label else f"{ACCOUNT_ROLES[role].lower()}s"


def describe_shortfalls(rules: TrustRules, found: list[Shortfall]) -> str:
    """The shortfalls in words, e.g. "1 of 2 administrators; 1 of 4 different people (one person counts once)"."""
    parts = []
    for item in found:
        if len(item.roles) == 1:
            parts.append(f"{item.have} of {item.required} {role_name(rules, item.roles[0])}")
        else:
            names = " and ".join(role_name(rules, r) for r in item.roles)
            parts.append(f"{item.have} of {item.required} different people as {names} "
                         "(one person counts once, so someone who is both fills only one place)")
    return "; ".join(parts)


def who_to_add(rules: TrustRules, found: list[Shortfall]) -> str:
    """Who the account needs, e.g. "1 more administrator and 2 more moderators (3 different people)"."""
    parts = []
    for item in found:
        if len(item.roles) == 1:
            name = role_name(rules, item.roles[0])
            name = name[:-1] if item.missing == 1 and name.endswith("s") else name
            parts.append(f"{item.missing} more {name}")
    text = " and ".join(parts)
    needed = people_needed(found)
    singles = sum(s.missing for s in found if len(s.roles) == 1)
    if needed > singles:
        text += (f" ({needed} different people, as one person counts once)" if text
                 else f"{needed} more different people (one person counts once)")
    return text


def minimum_basis(rules: TrustRules, roles, trust_name: str) -> str:
    """Where the minimums for these roles come from: each clause quoted, or "a trust setting" with who set it."""
    parts = []
    for role in dict.fromkeys(roles):
        source = rules.minimum_sources.get(role)
        if source:
            parts.append(f"{source.clause}: “{source.words}”")
        else:
            parts.append(f"{ACCOUNT_ROLES[role].lower()}s: a trust setting, set by {trust_name}")
    return "; ".join(parts)
