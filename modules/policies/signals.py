"""Signals by which policies tells later packages about content, without importing them.

Receivers are connected in modules/wiring.py and run inside the sender's transaction.
"""

from modules.core.signals import signal

#: Sent after `flask content sync` has loaded trusts and policy versions, inside the same transaction.
#: Receivers (the quiz bank loader) raise to abort the whole sync. Args: sender=app, content_dir, now.
content_synced = signal("content-synced")

#: Sent when a policy version is published. Args: sender=version, now.
version_published = signal("version-published")
