"""``manage.py db_worker``: django-tasks-db's task worker, which first starts the PDF render
forkserver (``pdf_worker.start``), so the first report it renders does not wait for
WeasyPrint to load. This app is listed before ``django_tasks_db`` in INSTALLED_APPS, so
this command is the one ``db_worker`` runs; its options are django-tasks-db's."""

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from assessment import pdf_worker


class Command(DatabaseWorkerCommand):
    help = DatabaseWorkerCommand.help + " (after starting the PDF render forkserver)"

    def handle(self, *args: Any, **options: Any) -> None:
        # With --reload, the process that runs the tasks is the reloader's child.
        reloading = options.get("reload") and not options.get("batch")
        if not reloading or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            pdf_worker.start()
        super().handle(*args, **options)
