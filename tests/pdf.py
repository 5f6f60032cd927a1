"""Reading PDFs back with poppler (pdftotext, pdfinfo, pdffonts), for report tests."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path


def poppler(tool: str, pdf: bytes, *args: str) -> str:
    """The output of a poppler tool run on ``pdf`` (pdftotext writes to standard output)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.pdf"
        path.write_bytes(pdf)
        to_stdout = ["-"] if tool == "pdftotext" else []
        return subprocess.run(  # noqa: S603 - poppler on our own file
            [shutil.which(tool), *args, str(path), *to_stdout],
            capture_output=True,
            text=True,
            check=True,
        ).stdout


def pdf_text(pdf: bytes) -> str:
    """The text, laid out as on the page; pages are separated by form feeds."""
    return poppler("pdftotext", pdf, "-layout")


def pdf_pages(pdf: bytes) -> list[str]:
    """The text of each page, in order."""
    return pdf_text(pdf).split("\f")[:-1]


def pdf_info(pdf: bytes) -> dict[str, str]:
    """``pdfinfo``'s fields (Title, Author, Creator, Pages, …)."""
    lines = poppler("pdfinfo", pdf).splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def pdf_fonts(pdf: bytes) -> list[tuple[str, str]]:
    """(font name without its subset tag, encoding) for every font ``pdffonts`` lists."""
    _header, rule, *rows = poppler("pdffonts", pdf).splitlines()
    # Columns are as wide as the dashes under their heading; names may hold spaces.
    spans = [(match.start(), match.end()) for match in re.finditer(r"-+", rule)]
    fonts = []
    for row in rows:
        name, _, encoding, *_ = (row[start:end].strip() for start, end in spans)
        fonts.append((name.split("+", 1)[-1], encoding))
    return fonts
