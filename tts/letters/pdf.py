"""HTML to PDF with WeasyPrint.

Why WeasyPrint: the letter is an HTML template with a stylesheet, like every page of the app, so an admin's
wording goes through the same escaping and the same typography; it lays out A4 pages with running footers
(`@page`), embeds the font (subsetted), and is pure Python over Pango, which Debian packages. The alternatives
were ReportLab (its own drawing API: a second way to lay out text) and a headless browser (a Chromium on
every server, and seconds per letter).
"""
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"


def html_to_pdf(html: str) -> bytes:
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-subsetting chatter; nothing personal
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, base_url=str(STATIC) + "/").write_pdf()
