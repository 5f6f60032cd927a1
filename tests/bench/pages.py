"""Questionnaire pages over HTTP, as shares of the hello-world page (issue 16, item 1)."""

import statistics
from pathlib import Path

from tests.bench.common import LONG_SLUG, open_questionnaire, open_respondents, server_times

PAGE_CLIENTS = 4  # requests in flight at once (c=4)
PAGE_SECONDS = 5.0

# The questionnaire pages measured: (framework slug, what the figure calls it, target %).
PAGES = (
    ("six-dimensions", "a 6-question section (six dimensions)", 10.0),
    (LONG_SLUG, "a 60-question section (the longest a framework may have)", 3.0),
)


def bench_pages(database: Path, workdir: Path) -> None:
    """Questionnaire pages over HTTP, each as a share of the hello-world page's rate in the
    same run: the ratio of the server's own median time per request (gunicorn's access log,
    microseconds), so the client's cost on the same cores does not enter it. gunicorn with
    two workers and the production settings (tests.benchsite adds only the hello-world
    page), ``PAGE_CLIENTS`` requests in flight; client-side req/s for context."""
    from tests.benchsite.client import Client, throughput
    from tests.load import infra

    opened = [(slug, *open_respondents(PAGE_CLIENTS, slug)) for slug, _name, _target in PAGES]
    env = infra.app_env(f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="tests.benchsite.settings")
    processes = infra.Processes()
    rates: dict[str, float] = {}
    try:
        port = infra.free_port()
        infra.start_gunicorn(
            processes, env, port=port, workdir=workdir, extra=("--access-logformat=%(U)s %(D)s",)
        )
        clients = [Client("127.0.0.1", port) for _ in range(PAGE_CLIENTS)]
        pages: dict[str, list[str]] = {}
        for slug, tokens, section_pk in opened:
            pages[slug] = [
                f"/responses/{open_questionnaire(client, token)}/sections/{section_pk}/"
                for client, token in zip(clients, tokens, strict=True)
            ]
        rates["hello"] = throughput(clients, lambda i: "/bench/hello/", seconds=PAGE_SECONDS)
        for slug, urls in pages.items():
            rates[slug] = throughput(clients, lambda i, urls=urls: urls[i], seconds=PAGE_SECONDS)
        rates["hello again"] = throughput(clients, lambda i: "/bench/hello/", seconds=PAGE_SECONDS)
        for client in clients:
            client.close()
    finally:
        processes.stop_all()
    served = server_times(workdir / f"access-{port}.log")
    hello_us = statistics.median(served["/bench/hello/"])
    print(
        f"hello-world page: {hello_us / 1000:.2f} ms in the server (median); "
        f"{rates['hello']:.0f} and {rates['hello again']:.0f} req/s before and after "
        f"(gunicorn, 2 workers, production settings, SQLite, c={PAGE_CLIENTS})"
    )
    for slug, name, target in PAGES:
        page_us = statistics.median(t for url in set(pages[slug]) for t in served[url])
        print(
            f"questionnaire page, {name}: {page_us / 1000:.1f} ms in the server = "
            f"{100 * hello_us / page_us:.1f} % of the hello-world page's rate "
            f"(target >= {target:.0f} %); {rates[slug]:.0f} req/s"
        )
