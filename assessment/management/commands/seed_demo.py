"""Demo data for trying Service Balance locally. Idempotent: a second run changes nothing."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - demo only; refused outside DEBUG


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    email: str


class Command(BaseCommand):
    help = "Create demo accounts for every role (development only) and print their logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even though DEBUG is off. Never on a server people can reach.",
        )

    def handle(self, *args: object, allow_without_debug: bool, **options: object) -> None:
        if not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "seed_demo creates accounts with a published password, so it only runs with "
                "DEBUG=1. Pass --allow-without-debug to override on a private machine."
            )
        logins = seed_demo()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in at /accounts/login/ as:"))
        for login in logins:
            self.stdout.write(f"  {login.role:<14} {login.username:<12} password: {DEMO_PASSWORD}")


@transaction.atomic
def seed_demo() -> list[DemoLogin]:
    """Create (or leave as they are) the demo accounts; return their logins."""
    user_model = get_user_model()
    admin, created = user_model.objects.get_or_create(
        username="admin",
        defaults={
            "email": "admin@example.com",
            "first_name": "Ada",
            "last_name": "Admin",
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if created:
        admin.set_password(DEMO_PASSWORD)
        admin.save(update_fields=["password"])
    return [DemoLogin(role="administrator", username=admin.username, email=admin.email)]
