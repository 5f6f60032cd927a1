"""``manage.py send_action_digests``: each action owner's weekly e-mail, once a week.

Run it weekly (docs/deploy.md: a systemd timer or a cron line, Monday 07:00). Running it
again in the same ISO week sends nothing twice: each address's digest is recorded
(``ActionDigest``, unique per address and week) in the transaction that sends it. A digest
that could not be sent (a sending cap, a refused address) is not recorded, so the next run
that week tries it again.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from assessment import selectors
from assessment.services.actions import action_digests_send


class Command(BaseCommand):
    help = (
        "E-mail each action owner (a member, or a named person with an address) a digest "
        "of their open actions: overdue, due within two weeks, and the rest. Once per "
        "address and ISO week. Run it weekly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print who would get a digest and what it would list; send nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        digests = selectors.actions.owner_digests()
        week = selectors.actions.digest_week()
        if options["dry_run"]:
            sent = selectors.actions.digests_sent(week)
            for digest in digests:
                already = " (already sent this week)" if digest.email.lower() in sent else ""
                self.stdout.write(
                    f"{digest.email}: {len(digest.overdue)} overdue, "
                    f"{len(digest.due_soon)} due soon, {len(digest.others)} other open"
                    f"{already}"
                )
                for action in digest.actions:
                    due = action.due_date.isoformat() if action.due_date else "no due date"
                    self.stdout.write(f"  - {action.title} ({due}, {action.get_status_display()})")
            self.stdout.write(
                f"Dry run for the week of {week}: {len(digests)} digest(s), none sent."
            )
            return
        run = action_digests_send(digests=digests)
        for email, reason in run.failed:
            self.stderr.write(f"Not sent to {email}: {reason}")
        self.stdout.write(
            f"Week of {run.week}: {len(run.sent)} digest(s) sent, "
            f"{len(run.already)} already sent this week, {len(run.failed)} not sent."
        )
