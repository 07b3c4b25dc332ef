"""Signals by which policies tells later packages about content, without importing them."""

from blinker import Namespace

_signals = Namespace()

#: Sent after `flask content sync` has loaded trusts and policy versions, inside the same transaction.
#: Receivers (the quiz bank loader) raise to abort the whole sync. Args: sender=app, content_dir, now.
content_synced = _signals.signal("content-synced")

#: Sent when a policy version is published. Args: sender=version, now.
version_published = _signals.signal("version-published")

#: Sent by HR's version review page to ask later packages what a new version means for them, read-only.
#: Receivers return something for the page to show (the quiz bank answers with a diff.QuizBankCheck).
#: Args: sender=version, base (the version it is compared with), comparison (a diff.Comparison).
version_review = _signals.signal("version-review")
