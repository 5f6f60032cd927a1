"""gunicorn settings: ``gunicorn -c python:assessment.gunicorn_conf assessment.wsgi``.

Each value can be changed from the environment; see docs/deploy.md.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# gunicorn reads WEB_CONCURRENCY itself as well; 2 per core is a good start for this app.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
# A PDF report renders within the request, bounded by REPORT_TIMEOUT_SECONDS: give the
# worker a little more than that before gunicorn kills it.
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
