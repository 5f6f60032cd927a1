"""What views of every audience share."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest

from assessment import services


def attempt(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    """Run one service call for a POST view: a refusal (``ServiceError``) becomes an error
    message, anything else the ``success`` message. True when the action was done."""
    try:
        action()
    except services.ServiceError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success)
    return True
