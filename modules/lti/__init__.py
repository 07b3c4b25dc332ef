"""LTI 1.3 tool: platform registration, launch, deep linking, grade pass-back (AGS) and roster sync (NRPS)."""
