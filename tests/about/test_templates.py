"""Markup rules every template keeps (WCAG 1.3.1 and 1.4.1): tables have a caption and header cells; status
tags always carry words, so colour never carries meaning alone."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def test_every_table_has_a_caption_and_header_cells():
    problems = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<table\b.*?</table>", text, re.S):
            line = text[:match.start()].count("\n") + 1
            if "<caption" not in match.group(0):
                problems.append(f"{path.relative_to(TEMPLATES)}:{line} has no <caption>")
            if not re.search(r"<th\b[^>]*scope=", match.group(0)):
                problems.append(f"{path.relative_to(TEMPLATES)}:{line} has no <th scope=...>")
    assert problems == []


def test_every_status_tag_has_words():
    empty = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r'<(strong|span)[^>]*class="govuk-tag[^"]*"[^>]*>(.*?)</\1>', text, re.S):
            if not re.sub(r"\{[%#].*?[%#]\}", "", match.group(2)).strip():
                empty.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)[:80]}")
    assert empty == []
