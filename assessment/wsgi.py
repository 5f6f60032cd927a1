"""WSGI entry point, for gunicorn: ``gunicorn assessment.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assessment.settings")

application = get_wsgi_application()
