"""The app served for real HTTP clients in tests (chromium, an LTI platform), closing each response as soon as
its body is sent.

Werkzeug's development server, after writing a response, reads whatever the client still sends before it closes
the response; when the client has already reset the connection (chromium often does once it has a redirect),
that read raises and the close never happens — and with it the app's after-response work (email delivery,
certificate rendering, LTI scores), which then waits for the daily run. Gunicorn, which `make run` and
production use, closes in a `finally`. This wrapper gives the test server the same guarantee.
"""

from collections.abc import Iterable, Iterator


class _ClosedWhenSent:
    def __init__(self, body: Iterable[bytes]):
        self._body = body
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        finally:
            self.close()

    def close(self) -> None:
        """Close the app's response once (the server may call this again)."""
        if not self._closed:
            self._closed = True
            close = getattr(self._body, "close", None)
            if close is not None:
                close()


def closed_when_sent(app):
    """A WSGI app that closes `app`'s response once its body has been written (or abandoned)."""
    def serve(environ, start_response):
        return _ClosedWhenSent(app(environ, start_response))
    return serve
