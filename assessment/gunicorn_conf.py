"""gunicorn settings: ``gunicorn -c python:assessment.gunicorn_conf assessment.wsgi``.

Each value can be changed from the environment; see docs/deploy.md.
"""

import os
import re

from gunicorn import glogging

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# gunicorn reads WEB_CONCURRENCY itself as well; 2 per core is a good start for this app.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
# Kill a worker stuck in one request (or in its warm-up, below) longer than this. No
# request renders a PDF any more: the task worker does, within REPORT_TIMEOUT_SECONDS.
timeout = int(os.environ.get("REPORT_TIMEOUT_SECONDS", "60")) + 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak in a library cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# Only a proxy on these addresses may tell gunicorn the original scheme and client.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# Links that carry a secret in their path: invitation and manager-join links, and
# password resets. Their tokens must not end up in access logs.
# Secret link tokens: invitations, joining, password resets, customers' personal links,
# organisations' calendar feeds.
SECRET_PATHS = re.compile(r"(/r/|/join/|/c/p/|/calendar/|/accounts/reset/[^/\s?]+/)[^/\s?]+")


def redact(text: str | None) -> str | None:
    return SECRET_PATHS.sub(r"\1[redacted]", text) if text else text


class RedactingLogger(glogging.Logger):
    """gunicorn's logger, with the tokens in secret links replaced in the access log."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}


logger_class = RedactingLogger


def post_worker_init(worker: object) -> None:
    """Before a new worker's first request: the views, templates and open questionnaires
    it would otherwise load while someone waits (``assessment.warmup``)."""
    from assessment.warmup import warm_worker

    warm_worker()
