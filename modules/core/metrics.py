"""Prometheus metrics at /metrics, for operators: requests by route and status, their durations, and the outbox.

Off unless METRICS_TOKEN is set (then /metrics answers only `Authorization: Bearer <token>`). Under gunicorn with
several workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory (scripts/serve.sh does) so the figures of
every worker are added up; gunicorn.conf.py tells the client library when a worker exits.
"""

import os
import secrets
import time

from flask import Blueprint, Flask, abort, current_app, g, request

from modules.core.extensions import csrf, db, limiter

bp = Blueprint("metrics", __name__)

#: Made on first use, so an app without metrics never imports prometheus_client.
_metrics: dict = {}


def _instruments() -> dict:
    if not _metrics:
        from prometheus_client import Counter, Histogram

        _metrics["requests"] = Counter("policypass_requests", "HTTP requests answered, by route and status.",
                                       ["method", "route", "status"])
        _metrics["seconds"] = Histogram("policypass_request_seconds", "Time to answer a request, by route.",
                                        ["route"], buckets=(.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
    return _metrics


def route_label() -> str:
    """The matched route's rule (never the URL itself, so ids do not make new series), or "unmatched"."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def _start_clock() -> None:
    g.metrics_started = time.perf_counter()


def _count(response):
    started = g.get("metrics_started")
    if started is not None:
        metrics, route = _instruments(), route_label()
        metrics["requests"].labels(request.method, route, str(response.status_code)).inc()
        metrics["seconds"].labels(route).observe(time.perf_counter() - started)
    return response


class _Gauges:
    """The figures read from the database at each scrape (the same on every worker), from the app's gauge functions."""

    def __init__(self, gauges):
        self.gauges = gauges

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        for gauge in self.gauges:
            name, documentation, label, values = gauge()
            family = GaugeMetricFamily(name, documentation, labels=[label])
            for key, value in values:
                family.add_metric([str(key)], value)
            yield family


@bp.get("/metrics")
@csrf.exempt
@limiter.exempt
def metrics():
    """The metrics in Prometheus text format, for a scraper holding the token."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(401)
    _instruments()
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every worker's figures, not just this one's
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    gauges = CollectorRegistry()
    gauges.register(_Gauges(current_app.extensions["policypass_gauges"]))
    body = generate_latest(registry) + generate_latest(gauges)
    db.session.rollback()
    return body, 200, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}


def init_app(app: Flask, gauges=()) -> None:
    """Count and time every request, and serve /metrics with these gauges, when METRICS_TOKEN is configured.

    A gauge is a function returning (name, help, label name, [(label value, number), ...]), read at each scrape.
    """
    if not app.config.get("METRICS_TOKEN"):
        return
    app.extensions["policypass_gauges"] = list(gauges)
    app.before_request(_start_clock)
    app.after_request(_count)
    app.register_blueprint(bp)
