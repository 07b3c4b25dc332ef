"""Links printed on certificates: the public /verify address a QR code carries (see modules/core/links.py)."""

from modules.core.links import FALLBACK_BASE, absolute

__all__ = ["FALLBACK_BASE", "absolute", "verify_url"]


def verify_url(code: str, base: str | None = None) -> str:
    """The public check page for a verification code, as the QR code carries it (see `absolute` for `base`)."""
    return absolute("certificates.verify", base=base, code=code)
