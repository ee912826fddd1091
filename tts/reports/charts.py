"""Small server-rendered SVG charts, each paired on its page with a table of the same figures.

Why SVG drawn here and not a charting library: the pages work without JavaScript and under the strict
content security policy, the charts print, and they are accessible as an image with a title beside a real
table (a script library would add a bundle, a CSP exception and a second rendering path to test). Text in
the charts uses the page's font at 16px in a 560-unit-wide drawing, so it is 16px on a desktop and about
12px on a phone; reference lines are named in a legend under the chart (in the page's HTML), never on the
chart, so labels never collide; percentages are whole numbers with no space ("45%"); a chart with nothing to
show is replaced by a sentence saying so.
"""
from markupsafe import Markup, escape

COLOURS = {"cases": "#1d70b8", "household_contacts": "#4c2c92", "non_household_contacts": "#d53880",
           "contacts": "#00703c"}
LABELS = {"cases": "Cases", "household_contacts": "Household contacts", "non_household_contacts": "Other contacts",
          "contacts": "All contacts"}
WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 16, 16, 44
MAX_TICKS = 6  # x-axis labels: at most this many, so 16px labels never touch


def _open(chart_id: str, title: str, height: int = HEIGHT) -> list[str]:
    return [f'<svg role="img" aria-labelledby="{chart_id}-title" viewBox="0 0 {WIDTH} {height}" class="tts-chart" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="{chart_id}-title">{escape(title)}</title>']


def _share_grid(parts: list[str], y) -> None:
    for pct in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(pct / 100):.1f}" y2="{y(pct / 100):.1f}" '
                     f'stroke="#b1b4b6" stroke-width="1"/><text x="{LEFT - 8}" y="{y(pct / 100) + 5:.1f}" '
                     f'text-anchor="end">{pct}%</text>')


def _thin(count: int) -> int:
    return max(1, -(-count // MAX_TICKS))  # every n-th label, n rounded up


def _swatch(colour: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (f'<svg class="tts-legend__swatch" width="28" height="10" aria-hidden="true" focusable="false">'
            f'<line x1="0" x2="28" y1="5" y2="5" stroke="{colour}" stroke-width="3"{dash}/></svg>')


def legend(names: list[str], references: dict[str, float], labels: dict[str, str] = LABELS,
           colours: dict[str, str] = COLOURS) -> Markup:
    """The key under a chart: each line's colour and name; the dashed lines' figures in words."""
    items = [f'<span class="tts-legend__item">{_swatch(colours[n])}{escape(labels[n])}</span>' for n in names]
    items += [f'<span class="tts-legend__item">{_swatch(colours[n], dashed=True)}National service, '
              f'{escape(labels[n].lower())}: {percent(share)}</span>' for n, share in references.items()]
    return Markup(f'<p class="govuk-body-s tts-legend">{"".join(items)}</p>')  # nosec B704: escaped labels


def percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def line_chart(series: dict[str, list[tuple[float, float]]], *, title: str, chart_id: str,
               references: dict[str, float] | None = None, ticks: list[tuple[float, str]] | None = None,
               x_label: str | None = None, empty: str = "There is nothing to chart yet.",
               labels: dict[str, str] = LABELS, colours: dict[str, str] = COLOURS) -> Markup:
    """Lines of (x, share 0..1) per group, national reference shares dashed, a legend under it. `ticks`:
    (x, label) for the x axis (default: the x values). With no point to draw, the `empty` sentence instead."""
    references = references or {}
    drawn = {name: points for name, points in series.items() if points}
    if not drawn:
        return Markup(f'<p class="govuk-body" data-testid="{chart_id}-empty">{escape(empty)}</p>')  # nosec B704
    xs = [x for points in drawn.values() for x, _ in points]
    lo, hi = min(xs), max(xs)
    w, h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM - (18 if x_label else 0)
    px = lambda v: LEFT + (w * (v - lo) / (hi - lo) if hi > lo else w / 2)  # noqa: E731
    py = lambda share: TOP + h - h * share  # noqa: E731
    parts = _open(chart_id, title)
    _share_grid(parts, py)
    for name, share in references.items():
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(share):.1f}" y2="{py(share):.1f}" '
                     f'stroke="{colours[name]}" stroke-dasharray="8 5" stroke-width="2"/>')
    for name, points in drawn.items():
        if len(points) > 1:
            parts.append(f'<polyline fill="none" stroke="{colours[name]}" stroke-width="3" points="'
                         + " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in points) + '"/>')
        for x, v in points:
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="4" fill="{colours[name]}"/>')
    ticks = ticks if ticks is not None else [(x, f"{x:g}") for x in sorted(set(xs))]
    for x, label in ticks[::_thin(len(ticks))]:
        parts.append(f'<text x="{px(x):.1f}" y="{TOP + h + 26}" text-anchor="middle">{escape(label)}</text>')
    if x_label:
        parts.append(f'<text x="{LEFT + w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append("</svg>")
    # Accepted bandit B704: the markup is built from numbers and escape()d labels only.
    return Markup("".join(parts)) + legend(list(drawn), references, labels, colours)  # nosec B704


REACH_GROUPS = ("cases", "household_contacts", "non_household_contacts")  # the chart's lines, as in its table


def reach_chart(by_day: dict, references: dict) -> Markup:
    """Share reached by the day people were logged, one line per group (those of its table), with the national
    service's figures (percent) dashed for the groups it reported."""
    from datetime import date

    days = sorted({d for name in REACH_GROUPS for d in by_day.get(name, {})})
    index = {d: i for i, d in enumerate(days)}
    series = {name: [(index[d], v["reached_pct"] / 100) for d, v in sorted(by_day[name].items())
                     if v["reached_pct"] is not None] for name in REACH_GROUPS if name in by_day}
    references = {n: pct for n, pct in references.items() if n in REACH_GROUPS}
    ticks = [(i, date.fromisoformat(d).strftime("%-d %b")) for i, d in enumerate(days)]
    return line_chart(series, title="Share reached by the day they were logged, with the national service's "
                                    "figures", chart_id="reach", ticks=ticks,
                      references={n: pct / 100 for n, pct in references.items()},
                      empty="Nobody was logged in these dates, so there is no chart: choose other dates.")


def bar_chart(buckets: list[dict], title: str, chart_id: str = "bars",
              empty: str = "Nobody was reached in these dates, so there is no chart.") -> Markup:
    if not any(b["count"] for b in buckets):
        return Markup(f'<p class="govuk-body" data-testid="{chart_id}-empty">{escape(empty)}</p>')  # nosec B704
    height = 260
    most = max(b["count"] for b in buckets)
    bw = (WIDTH - LEFT - RIGHT) / len(buckets)
    plot = height - TOP - BOTTOM - 10
    parts = _open(chart_id, title, height)
    for i, b in enumerate(buckets):
        bh = plot * b["count"] / most
        bx = LEFT + i * bw + 6
        centre = bx + (bw - 12) / 2
        parts.append(f'<rect x="{bx:.1f}" y="{height - BOTTOM - bh:.1f}" width="{bw - 12:.1f}" height="{bh:.1f}" '
                     f'fill="#1d70b8"/><text x="{centre:.1f}" y="{height - BOTTOM - bh - 6:.1f}" '
                     f'text-anchor="middle">{b["count"]:,}</text>'
                     f'<text x="{centre:.1f}" y="{height - 14}" text-anchor="middle">{escape(b["label"])}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{height - BOTTOM}" y2="{height - BOTTOM}" '
                 f'stroke="#0b0c0c"/></svg>')
    # Accepted bandit B704: the markup is built from numbers and escape()d labels only.
    return Markup("".join(parts))  # nosec B704


EPI_COLOURS = {"onset": "#1d70b8", "test": "#f47738"}
EPI_LABELS = {"onset": "By the day symptoms started", "test": "By test date (no symptoms)"}


def epicurve_chart(days: list[dict], title: str, chart_id: str = "epicurve") -> Markup:
    """An epidemic curve: a bar a day (stacked: cases by onset date, and by test date for those without
    symptoms), every day from the first case to the last; the page has the same figures as a table."""
    if not days:
        return Markup(f'<p class="govuk-body" data-testid="{chart_id}-empty">No cases yet, so there is no '
                      f'curve.</p>')  # nosec B704
    height = 260
    most = max(d["onset"] + d["test"] for d in days) or 1
    bw = (WIDTH - LEFT - RIGHT) / len(days)
    plot = height - TOP - BOTTOM - 10
    y = lambda n: height - BOTTOM - plot * n / most  # noqa: E731
    parts = _open(chart_id, title, height)
    for tick in range(0, most + 1, max(1, -(-most // 4))):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#b1b4b6"/>'
                     f'<text x="{LEFT - 8}" y="{y(tick) + 5:.1f}" text-anchor="end">{tick}</text>')
    every = _thin(len(days))
    for i, d in enumerate(days):
        x = LEFT + i * bw + min(2, bw / 8)
        w = max(1.0, bw - 2 * min(2, bw / 8))
        base = 0
        for part in ("onset", "test"):
            if d[part]:
                parts.append(f'<rect x="{x:.1f}" y="{y(base + d[part]):.1f}" width="{w:.1f}" '
                             f'height="{y(base) - y(base + d[part]):.1f}" fill="{EPI_COLOURS[part]}"/>')
                base += d[part]
        if i % every == 0:
            parts.append(f'<text x="{x + w / 2:.1f}" y="{height - 14}" text-anchor="middle">'
                         f'{d["day"].day} {d["day"]:%b}</text>')
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{height - BOTTOM}" y2="{height - BOTTOM}" '
                 f'stroke="#0b0c0c"/></svg>')
    key = "".join(f'<span class="tts-legend__item"><svg class="tts-legend__swatch" width="28" height="10" '
                  f'aria-hidden="true" focusable="false"><rect width="28" height="10" fill="{EPI_COLOURS[n]}"/>'
                  f'</svg>{escape(EPI_LABELS[n])}</span>' for n in ("onset", "test"))
    # Accepted bandit B704: built from numbers, dates and fixed labels.
    return Markup("".join(parts) + f'<p class="govuk-body-s tts-legend">{key}</p>')  # nosec B704
