"""gunicorn settings, read from the working directory by every `gunicorn app:create_app()` started here."""


def post_worker_init(worker) -> None:
    """Finish the app's setup (models, blueprints, wiring: app.py) in each worker before it takes a request, and
    warm WeasyPrint and its fonts, if the worker renders certificates itself (CERTIFICATE_RENDERING "request" or
    "inline"), so its first certificate does not pay for the import; with "worker" (the default) the Huey consumer
    renders them and the web workers stay without it (issue 16)."""
    from modules.certificates.rendering import warm_web_worker

    worker.wsgi.finish_setup()
    warm_web_worker(worker.wsgi)


def child_exit(server, worker) -> None:
    """Tell the metrics client a worker has gone, so its live gauges stop counting (PROMETHEUS_MULTIPROC_DIR)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
