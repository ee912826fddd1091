"""Copy govuk-frontend's compiled CSS, JS, fonts and images from node_modules into tts/static/govuk."""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
TARGET = ROOT / "tts" / "static" / "govuk"


def main() -> int:
    if not SOURCE.exists():
        print("govuk-frontend is not installed: run `npm ci` first", file=sys.stderr)
        return 1
    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    for name in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
        shutil.copy2(SOURCE / name, TARGET / name)
    shutil.copytree(SOURCE / "assets", TARGET / "assets")
    htmx = ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    (ROOT / "tts" / "static" / "htmx").mkdir(parents=True, exist_ok=True)
    shutil.copy2(htmx, ROOT / "tts" / "static" / "htmx" / "htmx.min.js")
    # The letters' font (tts/letters/pdf.py): Atkinson Hyperlegible, open-licensed (SIL OFL), made to be read
    # easily by people with low vision. WeasyPrint embeds it in each PDF, so letters look the same on any
    # server without a system font package.
    font = ROOT / "node_modules" / "@fontsource" / "atkinson-hyperlegible"
    fonts = ROOT / "tts" / "static" / "fonts" / "atkinson-hyperlegible"
    if fonts.exists():
        shutil.rmtree(fonts)
    (fonts / "files").mkdir(parents=True)
    for weight in ("400", "700"):
        shutil.copy2(font / f"{weight}.css", fonts / f"{weight}.css")
        for subset in ("latin", "latin-ext"):
            for ext in ("woff", "woff2"):
                name = f"atkinson-hyperlegible-{subset}-{weight}-normal.{ext}"
                shutil.copy2(font / "files" / name, fonts / "files" / name)
    shutil.copy2(font / "LICENSE", fonts / "LICENSE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
