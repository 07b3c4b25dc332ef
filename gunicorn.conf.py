"""gunicorn settings, read from the working directory by every `gunicorn app:create_app()` started here."""


def post_worker_init(worker) -> None:
    """Warm WeasyPrint and its fonts in each worker before it takes a request, so the first certificate of a
    fresh worker does not pay for the import inside an acknowledgement's transaction (issue 16)."""
    from modules.certificates.rendering import warm

    warm()


def child_exit(server, worker) -> None:
    """Tell the metrics client a worker has gone, so its live gauges stop counting (PROMETHEUS_MULTIPROC_DIR)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
