"""Small server-rendered SVG charts: readable without JavaScript, each paired with a data table."""
from markupsafe import Markup, escape

COLOURS = {"cases": "#1d70b8", "household_contacts": "#4c2c92", "non_household_contacts": "#d53880",
           "contacts": "#00703c"}
LABELS = {"cases": "Cases", "household_contacts": "Household contacts", "non_household_contacts": "Other contacts",
          "contacts": "All contacts"}


def reach_chart(by_day: dict, references: dict, width: int = 640, height: int = 260) -> Markup:
    """Share reached by day of creation, one line per group, national reference figures dashed."""
    days = sorted({d for series in by_day.values() for d in series})
    left, right, top, bottom = 44, 12, 12, 36
    w, h = width - left - right, height - top - bottom
    x = lambda i: left + (w * i / max(len(days) - 1, 1))  # noqa: E731
    y = lambda pct: top + h - h * pct / 100  # noqa: E731
    parts = [f'<svg role="img" aria-labelledby="reach-title" viewBox="0 0 {width} {height}" class="tts-chart" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="reach-title">Share reached by day, with the '
             f'national service\'s figures</title>']
    for pct in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" stroke="#e5e6e7"/>'
                     f'<text x="{left - 6}" y="{y(pct) + 4:.1f}" text-anchor="end" font-size="11">{pct}%</text>')
    for name, pct in references.items():
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(pct):.1f}" y2="{y(pct):.1f}" '
                     f'stroke="{COLOURS[name]}" stroke-dasharray="6 4" stroke-width="1.5"/>'
                     f'<text x="{width - right}" y="{y(pct) - 3:.1f}" text-anchor="end" font-size="10" '
                     f'fill="{COLOURS[name]}">national {escape(LABELS[name].lower())} {pct:g}%</text>')
    for name, series in by_day.items():
        if name not in references:
            continue
        points = [(x(days.index(d)), y(v["reached_pct"])) for d, v in sorted(series.items())
                  if v["reached_pct"] is not None]
        if len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{COLOURS[name]}" stroke-width="2.5" points="'
                         + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{COLOURS[name]}"/>')
    for i, d in enumerate(days):
        if len(days) <= 10 or i % max(1, len(days) // 8) == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{height - 14}" text-anchor="middle" font-size="11">{d[8:]}/{d[5:7]}</text>')
    parts.append("</svg>")
    # Accepted bandit B704: the markup is built from numbers and escape()d labels only.
    return Markup("".join(parts))  # nosec B704


def bar_chart(buckets: list[dict], title: str, width: int = 640, height: int = 220) -> Markup:
    left, bottom, top = 44, 36, 12
    most = max([b["count"] for b in buckets] + [1])
    bw = (width - left - 12) / len(buckets)
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" class="tts-chart" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, b in enumerate(buckets):
        bh = (height - top - bottom) * b["count"] / most
        bx = left + i * bw + 6
        parts.append(f'<rect x="{bx:.1f}" y="{height - bottom - bh:.1f}" width="{bw - 12:.1f}" height="{bh:.1f}" fill="#1d70b8"/>'
                     f'<text x="{bx + (bw - 12) / 2:.1f}" y="{height - bottom - bh - 4:.1f}" text-anchor="middle" font-size="11">{b["count"]}</text>'
                     f'<text x="{bx + (bw - 12) / 2:.1f}" y="{height - 14}" text-anchor="middle" font-size="11">{escape(b["label"])}</text>')
    parts.append("</svg>")
    # Accepted bandit B704: the markup is built from numbers and escape()d labels only.
    return Markup("".join(parts))  # nosec B704
