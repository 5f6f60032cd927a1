"""Production settings with the bench's URLconf (``tests.benchsite.urls``), and its
collected static files in a folder of the bench's own (``BENCH_STATIC_ROOT``) when it
serves them as production does."""

import os

from assessment.settings import *  # noqa: F403

ROOT_URLCONF = "tests.benchsite.urls"
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)  # noqa: F405
