"""The documentation stands alone: every relative link resolves, nothing points outside the repository or at
an issue tracker readers cannot see, and the README stays a front page."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")) and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_no_page_points_outside_the_repository_or_at_unseen_issues():
    for page in PAGES:
        text = page.read_text()
        assert "../shared" not in text and "shared/design" not in text, page.name
        assert not re.search(r"\bissues? \d+\b", text, re.IGNORECASE), f"{page.name} names an issue by number"


def test_the_readme_is_a_front_page():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 120
    for wanted in ("make run", "make test", "docs/deploy.md", "docs/api.md", "docs/configuration.md",
                   "docs/guide-tracer.md", "docs/guide-supervisor.md", "docs/design.md"):
        assert wanted in readme
