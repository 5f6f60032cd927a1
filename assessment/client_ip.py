"""The client's address, as far as it can be trusted.

With no proxy in front (``TRUSTED_PROXY_COUNT=0``) it is the connection's own
address and ``X-Forwarded-For`` is ignored: anyone can send that header. Behind
N proxies that each append the address they received the request from, the
client is the N-th entry from the right; entries further left were sent by the
client and prove nothing.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    direct = request.META.get("REMOTE_ADDR") or None
    if count <= 0:
        return direct
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        # Fewer hops than proxies: the request did not come through all of them.
        return direct
    return hops[-count]
