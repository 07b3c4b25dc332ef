"""Trusts, academies, people, roles, line-manager links, sign-in."""
