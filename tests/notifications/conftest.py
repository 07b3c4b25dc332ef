from tests.notifications.sink import smtp_sink  # noqa: F401  (fixture)
