"""The refusal every LTI step raises (kept free of the LTI libraries, which load only when a launch comes)."""


class LaunchRefused(Exception):
    """A login or launch the tool will not accept: `status` (400/403), `code` for the log, `message` to show."""

    def __init__(self, status: int, code: str, message: str, platform=None):
        super().__init__(message)
        self.status, self.code, self.message, self.platform = status, code, message, platform
