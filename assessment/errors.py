"""The error a refused action raises, shared by selectors and services."""


class ServiceError(Exception):
    """A refused action; ``str(error)`` is a message for the user."""
