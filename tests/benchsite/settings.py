"""Production settings with the bench's URLconf (``tests.benchsite.urls``)."""

from assessment.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchsite.urls"
