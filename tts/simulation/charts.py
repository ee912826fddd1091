"""Planner charts: server-rendered SVG (no script), each with a table of the same figures on the page."""
from markupsafe import Markup, escape

from tts.reports.charts import COLOURS, LABELS

COLOURS = {**COLOURS, "other_contacts": COLOURS["non_household_contacts"]}
LABELS = {**LABELS, "other_contacts": LABELS["non_household_contacts"]}


def line_chart(series: dict[str, list[tuple[float, float]]], *, title: str, x_label: str, chart_id: str,
               references: dict[str, float] | None = None, width: int = 640, height: int = 260) -> Markup:
    """Lines of (x, share 0..1) per group; national reference shares dashed."""
    xs = [x for points in series.values() for x, _ in points] or [0, 1]
    lo, hi = min(xs), max(xs)
    left, right, top, bottom = 44, 12, 12, 40
    w, h = width - left - right, height - top - bottom
    px = lambda v: left + w * (v - lo) / ((hi - lo) or 1)  # noqa: E731
    py = lambda share: top + h - h * share  # noqa: E731
    parts = [f'<svg role="img" aria-labelledby="{chart_id}-title" viewBox="0 0 {width} {height}" class="tts-chart" '
             f'xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}-title">{escape(title)}</title>']
    for pct in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(pct / 100):.1f}" y2="{py(pct / 100):.1f}" '
                     f'stroke="#e5e6e7"/><text x="{left - 6}" y="{py(pct / 100) + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{pct}%</text>')
    for name, share in (references or {}).items():
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{py(share):.1f}" y2="{py(share):.1f}" '
                     f'stroke="{COLOURS[name]}" stroke-dasharray="6 4" stroke-width="1.5"/>'
                     f'<text x="{width - right}" y="{py(share) - 3:.1f}" text-anchor="end" font-size="10" '
                     f'fill="{COLOURS[name]}">national {escape(LABELS[name].lower())} {share * 100:g}%</text>')
    for name, points in series.items():
        if len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{COLOURS[name]}" stroke-width="2.5" points="'
                         + " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in points) + '"/>')
    ticks = sorted(set(xs))
    step = max(1, len(ticks) // 8)
    for x in ticks[::step]:
        parts.append(f'<text x="{px(x):.1f}" y="{height - 22}" text-anchor="middle" font-size="11">{x:g}</text>')
    parts.append(f'<text x="{left + w / 2:.1f}" y="{height - 4}" text-anchor="middle" font-size="11">'
                 f'{escape(x_label)}</text></svg>')
    # Accepted bandit B704: the markup is built from numbers and escape()d labels only.
    return Markup("".join(parts))  # nosec B704
