"""Demo-only data: the demo cast, their history and the invented earlier E-ACT version.

Nothing here is read by the app or by `flask content sync`; only `flask demo seed` (demo/cli.py) loads it, and
it refuses under production config (POLICYPASS_ENV=production). It sits above every package in modules/, so it
may use any of their services, and none of them imports it.
"""
