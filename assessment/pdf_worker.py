"""WeasyPrint in a separate process, bounded in time and memory.

This module deliberately imports nothing from Django, and WeasyPrint only when it
renders (web workers import this module and never render): it runs in processes forked
from a small server that has only WeasyPrint loaded. The parent hands over the HTML
and every asset the report may use (by exact URL); the child can fetch nothing else.
It hands back the PDF with what the fetcher served and refused, and the characters no
font had a glyph for (printed as empty boxes), so the parent can judge the result.
"""

import functools
import logging
import multiprocessing
import os
import resource
from multiprocessing.connection import Connection
from xml.sax.saxutils import escape

Assets = dict[str, tuple[bytes, str]]


class RenderLimitExceeded(Exception):
    """The renderer ran out of time or memory, or died; the reason is in ``args[0]``."""


@functools.cache
def memory_fetcher_class() -> type:
    """``MemoryFetcher``, built on first use: it subclasses WeasyPrint's fetcher, and
    importing WeasyPrint takes 1-2 s, which a web worker (it never renders) should not
    pay; the forkserver imports it when it starts."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class MemoryFetcher(URLFetcher):
        """Serves the given assets by exact URL; refuses every other URL and records it."""

        def __init__(self, assets: Assets) -> None:
            super().__init__(allowed_protocols={"https"}, allow_redirects=False, timeout=1)
            self.assets = assets
            self.served: list[str] = []
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url not in self.assets:
                self.refused.append(url)
                raise ValueError(f"The report may not fetch {url!r}")
            self.served.append(url)
            body, content_type = self.assets[url]
            return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})

    return MemoryFetcher


def __getattr__(name: str) -> object:
    if name == "MemoryFetcher":
        return memory_fetcher_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


Rendering = tuple[bytes, list[str], list[str], list[str]]


class MissingGlyphs(logging.Handler):
    """Collects the characters WeasyPrint drew as .notdef (no font has them), in order."""

    MESSAGE = ".notdef glyph rendered"

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.characters: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(self.MESSAGE) and record.args:
            character = str(record.args[0])
            if character not in self.characters:
                self.characters.append(character)


def language_xmp(language: str) -> bytes:
    """The document's language as XMP (Dublin Core ``dc:language``)."""
    return (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description rdf:about="">'
        f"<dc:language><rdf:Bag><rdf:li>{escape(language)}</rdf:li></rdf:Bag></dc:language>"
        "</rdf:Description></rdf:RDF>"
    ).encode()


def render(html: str, base_url: str, assets: Assets, variant: str) -> Rendering:
    """The PDF; the URLs served and refused; the characters drawn without a glyph. Tagged
    variant, no attachments."""
    from weasyprint import HTML

    fetcher = memory_fetcher_class()(assets)
    missing = MissingGlyphs()
    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.addHandler(missing)
    options = {"pdf_variant": variant, "attachments": []}
    try:
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(**options)
        if document.metadata.lang:
            # WeasyPrint puts <html lang> in the catalogue (/Lang); the XMP metadata says
            # it too, where document managers and pdfinfo -meta look for it.
            document.metadata.xmp_metadata.append(language_xmp(document.metadata.lang))
        pdf = document.write_pdf(**options)
    finally:
        weasyprint_logger.removeHandler(missing)
    return pdf, fetcher.served, fetcher.refused, missing.characters


# How much lower a render's CPU priority is than its parent's: a render takes seconds of
# CPU, and on a small machine the web workers share the cores with the task worker; a
# request should not wait behind a report nobody is waiting for in that request.
RENDER_NICENESS = 10


def _child(connection: Connection, memory_bytes: int, args: tuple) -> None:
    try:
        os.nice(RENDER_NICENESS)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        connection.send(("ok", render(*args)))
    except MemoryError:
        connection.send(("memory", None))
    except Exception as error:  # reported to the parent, which raises it there
        connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        connection.close()


_context: multiprocessing.context.BaseContext | None = None


def _get_context() -> multiprocessing.context.BaseContext:
    # forkserver: children fork from a clean, single-threaded server with WeasyPrint
    # already imported, so each render starts fast and never inherits web threads.
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["weasyprint", "assessment.pdf_worker"])
    return _context


def start() -> None:
    """Start the forkserver now, with WeasyPrint imported in it (1-2 s), rather than on
    the first report: the task worker (``manage.py db_worker``) calls it as it starts.
    Nothing happens when it is running already."""
    from multiprocessing import forkserver

    _get_context()
    forkserver.ensure_running()


def render_bounded(
    html: str,
    base_url: str,
    assets: Assets,
    variant: str,
    *,
    seconds: float,
    memory_bytes: int,
) -> Rendering:
    """``render`` in a child process that is killed past ``seconds`` and cannot grow past
    ``memory_bytes`` of address space. Raises RenderLimitExceeded when either runs out."""
    context = _get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, memory_bytes, (html, base_url, assets, variant)), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise RenderLimitExceeded("time")
        status, payload = receiver.recv()
    except EOFError:
        raise RenderLimitExceeded("crashed") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
    if status == "memory":
        raise RenderLimitExceeded("memory")
    if status == "error":
        raise RuntimeError(payload)
    return payload
