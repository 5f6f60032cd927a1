"""Every URL pattern of the project, and the HTTP methods each view answers."""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

ALL_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route itself for an unnamed pattern
    route: str  # the full route, prefixes included
    callback: Callable

    @property
    def is_admin(self) -> bool:
        return self.key.startswith("admin:") or self.route.startswith("admin/")


def routes(resolvers=None, prefix: str = "", namespace: str = "") -> list[Route]:
    found = []
    for pattern in get_resolver().url_patterns if resolvers is None else resolvers:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += routes(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            key = f"{namespace}{pattern.name or pattern.pattern}"
            found.append(Route(key, route, pattern.callback))
    return found


def allowed_methods(callback: Callable) -> frozenset[str]:
    """The HTTP methods a view answers: from a class-based view's handlers, or from the
    ``require_http_methods`` (``require_POST``, ``require_GET``) wrapper of a function
    view. A function view without one answers every method, POST included."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return frozenset(m.upper() for m in view_class.http_method_names if hasattr(view_class, m))
    function = callback
    while function is not None:
        methods = inspect.getclosurevars(function).nonlocals.get("request_method_list")
        if methods is not None:
            return frozenset(methods)
        function = getattr(function, "__wrapped__", None)
    return ALL_METHODS
