"""gunicorn settings, read from the working directory by every `gunicorn app:create_app()` started here."""


def post_worker_init(worker) -> None:
    """Warm WeasyPrint and its fonts in each worker before it takes a request, so the first certificate of a
    fresh worker does not pay for the import inside an acknowledgement's transaction (issue 16)."""
    from modules.certificates.rendering import warm

    warm()
