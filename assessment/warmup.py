"""What a web worker does before its first request (gunicorn's ``post_worker_init``, in
``assessment.gunicorn_conf``).

A new worker, at start and after each recycling, would otherwise make its first visitors
wait for what it does only once: importing every view (the URLconf), compiling the
templates, and reading and rendering the questionnaires of the open assessments
(``frameworks.selectors.asked_content`` and the question blocks of
``assessment.templatetags.questionnaire``). It does that here instead, before gunicorn
hands it a request. Nothing is written. If the database cannot be read, the worker starts
anyway and warms each questionnaire on its first page, as it would without this. The
connection it opened is the worker's own (gunicorn forks first), kept or closed by
Django's usual rules (``CONN_MAX_AGE``) when the first request starts.
"""

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from assessment.models import COMMENT_MAX_LENGTH
from assessment.selectors.respondent import contents_in_progress
from assessment.templatetags import questionnaire

logger = logging.getLogger(__name__)

# The project's page templates (and what they include), compiled and kept by the cached
# template loader: a few milliseconds each on first use.
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def warm_worker() -> None:
    """Import the views, compile the templates and render the open assessments' question
    blocks in every language; log what it did."""
    started = time.monotonic()
    reverse("assessment:invitation_landing")  # imports every view module
    for path in sorted(TEMPLATES.rglob("*.html")):
        get_template(path.relative_to(TEMPLATES).as_posix())
    blocks = 0
    try:
        contents = contents_in_progress()
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                blocks += sum(questionnaire.warm(c, COMMENT_MAX_LENGTH) for c in contents)
    except DatabaseError as error:
        logger.warning("Warming the worker: the questionnaires could not be read (%s)", error)
    logger.info(
        "Worker warmed in %.0f ms: %d question blocks", 1000 * (time.monotonic() - started), blocks
    )
