"""An HTTP/1.1 client for the bench: keep-alive connections with their own cookies, as a
browser tab has, and a throughput measure with a fixed number of them at once.

The standard library only (``http.client``): the bench adds no dependency."""

import http.client
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


@dataclass
class Client:
    """One keep-alive connection to ``host:port`` and the cookies it was given."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def request(self, method: str, path: str, form: list[tuple[str, str]] | None = None) -> Reply:
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.host}:{self.port}{path}"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return Reply(response.status, response.headers, data)

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: list[tuple[str, str]], *, page: str) -> Reply:
        """A form post with the CSRF token of ``page`` (the HTML it was on)."""
        token = CSRF.search(page)
        if token is None:
            raise RuntimeError(f"no CSRF token on the page before POST {path}")
        return self.request("POST", path, [("csrfmiddlewaretoken", token.group(1)), *form])

    def close(self) -> None:
        self.connection.close()


def throughput(
    clients: list[Client], path: Callable[[int], str], *, seconds: float, ok: int = 200
) -> float:
    """Requests per second with ``len(clients)`` requests in flight at once, each client
    sending GET ``path(i)`` again as soon as its previous answer has arrived, for
    ``seconds``. A status other than ``ok`` stops the measure: a figure of errors is no
    figure."""
    counts = [0] * len(clients)
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def run(i: int) -> None:
        client = clients[i]
        while time.perf_counter() < deadline and not failures:
            reply = client.get(path(i))
            if reply.status != ok:
                failures.append(f"GET {path(i)}: {reply.status}")
                return
            counts[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(failures[0])
    return sum(counts) / (time.perf_counter() - started)
