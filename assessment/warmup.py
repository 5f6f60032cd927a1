"""What a web worker does before its first request (gunicorn's ``post_worker_init``, in
``assessment.gunicorn_conf``).

A new worker, at start and after each recycling, would otherwise make its first visitors
wait for what it does only once: importing every view (the URLconf), compiling the
templates, and reading and rendering the questionnaires of the open assessments
(``frameworks.selectors.asked_content`` and the question blocks of
``assessment.templatetags.questionnaire``). It does that here instead, before gunicorn
hands it a request. Nothing is written. If anything fails (the database cannot be read,
say), the worker logs it and starts anyway, warming each page on first use as it would
without this. The
connection it opened is the worker's own (gunicorn forks first), kept or closed by
Django's usual rules (``CONN_MAX_AGE``) when the first request starts.
"""

import logging
import time
from pathlib import Path

from django.conf import settings
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
    blocks in every language; log what it did. Never raises: warming only saves time, and
    a worker that failed to boot would stop gunicorn altogether, so any failure is logged
    (``Worker warm-up failed``) and the worker starts cold."""
    started = time.monotonic()
    try:
        blocks = _warm()
    except Exception:
        logger.exception("Worker warm-up failed; the worker starts without it")
        return
    logger.info(
        "Worker warmed in %.0f ms: %d question blocks", 1000 * (time.monotonic() - started), blocks
    )


def _warm() -> int:
    """The warm-up itself; the number of question blocks it rendered."""
    reverse("assessment:invitation_landing")  # imports every view module
    for path in sorted(TEMPLATES.rglob("*.html")):
        get_template(path.relative_to(TEMPLATES).as_posix())
    contents = contents_in_progress()
    blocks = 0
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            blocks += sum(questionnaire.warm(c, COMMENT_MAX_LENGTH) for c in contents)
    return blocks
