"""Erase customers' addresses once their survey has closed, and old throttle rows."""

from django.conf import settings
from django.core.management.base import BaseCommand

from assessment import services


class Command(BaseCommand):
    help = (
        "Erase the e-mail addresses and names on the personal-link lists of customer surveys "
        "that closed more than CUSTOMER_ADDRESS_RETENTION_DAYS ago, and the rate limit's "
        "rows of ended windows. Run it daily."
    )

    def handle(self, *args: object, **options: object) -> None:
        erased = services.customer_addresses_erase()
        self.stdout.write(
            f"Erased {erased} customer address(es) of surveys closed more than "
            f"{settings.CUSTOMER_ADDRESS_RETENTION_DAYS} day(s) ago."
        )
