"""WeasyPrint in this process: imported lazily (0.4 s), one FontConfiguration shared by the process (without it
memory grows ~0.2 MB per render), and a URL fetcher that fetches nothing at all. No Flask here: the separate
renderer process (renderer.py) imports only this."""

import threading

_lock = threading.Lock()
_shared: dict = {}


def _weasyprint() -> dict:
    """WeasyPrint's classes, the shared FontConfiguration and the refusing fetcher, made once."""
    if not _shared:
        with _lock:
            if not _shared:
                import weasyprint
                from weasyprint.text.fonts import FontConfiguration
                from weasyprint.urls import FatalURLFetchingError, URLFetcher

                class NoFetch(URLFetcher):
                    """Refuses every URL: the templates carry their styles and images inline."""

                    def fetch(self, url, headers=None):
                        # Fatal, so a template that reaches out fails loudly instead of printing without it.
                        raise FatalURLFetchingError(f"fetching is disabled for PDFs: {url[:100]}")

                _shared.update(HTML=weasyprint.HTML, fetcher=NoFetch(), fonts=FontConfiguration(),
                               render=threading.Lock())
    return _shared


def html_to_pdf_here(html: str) -> bytes:
    """Render an HTML string (with inline CSS and SVG only) to PDF bytes in this process."""
    wp = _weasyprint()
    with wp["render"]:  # Pango's font map is shared; one render at a time per process
        document = wp["HTML"](string=html, base_url=None, url_fetcher=wp["fetcher"])
        return document.write_pdf(font_config=wp["fonts"])
