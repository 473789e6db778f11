"""Rendering the report data to self-contained HTML (inline CSS and SVG charts, no scripts) and Markdown."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader


def sparkline(values: list[float], width: int = 140, height: int = 30, top: float | None = None,
              label: str = "") -> str:
    """An inline SVG polyline of weekly ``values`` with the last point marked, on the scale 0..``top`` (shared by
    the sparklines that sit side by side; default: their own maximum); the first and last values are written at
    its ends, as its axis."""
    if not values:
        return ""
    top = max(top or max(values), 1)
    pad = 22
    inner = width - 2 * pad
    step = inner / max(len(values) - 1, 1)
    points = [(pad + i * step, height - 3 - (v / top) * (height - 6)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    lx, ly = points[-1]
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_esc(label)} {" ".join(str(int(v)) for v in values)}">'
            f'<text x="{pad - 3}" y="{height - 4}" font-size="9" text-anchor="end" fill="#777">{int(values[0])}</text>'
            f'<polyline fill="none" stroke="#c0392b" stroke-width="1.6" points="{path}"/>'
            f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" fill="#c0392b"/>'
            f'<text x="{width - pad + 3}" y="{ly + 3:.1f}" font-size="9" fill="#c0392b">{int(values[-1])}</text></svg>')


def bars(rows: list[dict], axis: str = "", legend: str = "", width: int = 520) -> str:
    """A horizontal SVG bar chart: one bar per row (``name``, ``count``), the negative part darker, with an x
    axis (0 and the largest count) labelled ``axis`` and a ``legend``; it scales down to the page's width."""
    if not rows:
        return ""
    top = max(r["count"] for r in rows) or 1
    height = 24 * len(rows) + 40
    span = width - 190
    out = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(axis)}">']
    for i, r in enumerate(rows):
        y = 4 + i * 24
        full = span * r["count"] / top
        neg = full * r["negative_share"]
        out.append(f'<text x="0" y="{y + 14}" font-size="12">{_esc(r["name"])}</text>'
                   f'<rect x="120" y="{y}" width="{full:.1f}" height="18" fill="#f5b7b1"/>'
                   f'<rect x="120" y="{y}" width="{neg:.1f}" height="18" fill="#c0392b"/>'
                   f'<text x="{124 + full:.1f}" y="{y + 14}" font-size="12">{r["count"]}</text>')
    base = 4 + len(rows) * 24
    out.append(f'<line class="axis" x1="120" y1="{base}" x2="{120 + span}" y2="{base}" stroke="#999"/>'
               f'<text x="120" y="{base + 13}" font-size="10" fill="#555">0</text>'
               f'<text x="{120 + span}" y="{base + 13}" font-size="10" fill="#555" text-anchor="end">{top}</text>'
               f'<text class="axis-label" x="{120 + span / 2:.0f}" y="{base + 13}" font-size="10" fill="#555" '
               f'text-anchor="middle">{_esc(axis)}</text>'
               f'<rect x="120" y="{base + 20}" width="10" height="10" fill="#c0392b"/>'
               f'<text x="134" y="{base + 29}" font-size="10" fill="#555">{_esc(legend)}</text></svg>')
    return "".join(out)


def sentiment_line(points: list[dict], axis: str = "", axis_right: str = "", width: int = 520,
                   height: int = 150) -> str:
    """Weekly volume bars (left axis: 0 and the largest count, labelled ``axis``) with the mean sentiment
    (-1..1, right axis labelled ``axis_right``) as a line; the first and last weeks under the bars."""
    if not points:
        return ""
    n = len(points)
    top = max(p["count"] for p in points) or 1
    left, right, plot_h, y0 = 34, 40, height - 40, 8
    bw = (width - left - right) / n
    mid = y0 + plot_h / 2
    out = [f'<svg class="chart trend" viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(axis)}">',
           f'<line x1="{left}" y1="{mid}" x2="{width - right}" y2="{mid}" stroke="#ccc" stroke-dasharray="3"/>',
           f'<line class="axis" x1="{left}" y1="{y0}" x2="{left}" y2="{y0 + plot_h}" stroke="#999"/>',
           f'<text x="{left - 4}" y="{y0 + 8}" font-size="10" text-anchor="end" fill="#555">{top}</text>',
           f'<text x="{left - 4}" y="{y0 + plot_h}" font-size="10" text-anchor="end" fill="#555">0</text>',
           f'<text x="{width - right + 4}" y="{y0 + 8}" font-size="10" fill="#1f618d">+1</text>',
           f'<text x="{width - right + 4}" y="{mid + 3}" font-size="10" fill="#1f618d">0</text>',
           f'<text x="{width - right + 4}" y="{y0 + plot_h}" font-size="10" fill="#1f618d">−1</text>']
    line = []
    for i, p in enumerate(points):
        h = plot_h * p["count"] / top
        out.append(f'<rect x="{left + i * bw + 2:.1f}" y="{y0 + plot_h - h:.1f}" width="{max(bw - 4, 1):.1f}" '
                   f'height="{h:.1f}" fill="#d6eaf8"><title>{p["week"]}: {p["count"]}</title></rect>')
        line.append(f"{left + i * bw + bw / 2:.1f},{mid - p['mean_sentiment'] * (plot_h / 2 - 4):.1f}")
    out.append(f'<polyline fill="none" stroke="#1f618d" stroke-width="2" points="{" ".join(line)}"/>'
               f'<text x="{left}" y="{height - 18}" font-size="10" fill="#555">{_esc(points[0]["week"])}</text>'
               f'<text x="{width - right}" y="{height - 18}" font-size="10" fill="#555" text-anchor="end">'
               f'{_esc(points[-1]["week"])}</text>'
               f'<rect x="{left}" y="{height - 11}" width="10" height="9" fill="#d6eaf8"/>'
               f'<text class="axis-label" x="{left + 14}" y="{height - 3}" font-size="10" fill="#555">{_esc(axis)}</text>'
               f'<line x1="{left + 150}" y1="{height - 6}" x2="{left + 164}" y2="{height - 6}" stroke="#1f618d" '
               f'stroke-width="2"/><text class="axis-label" x="{left + 168}" y="{height - 3}" font-size="10" '
               f'fill="#555">{_esc(axis_right)}</text></svg>')
    return "".join(out)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=PackageLoader("nlp.report", "templates"),
                      autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["pct"] = lambda v: f"{100 * float(v):.0f}%"
    env.filters["signed"] = lambda v: f"{float(v):+.2f}"
    # growth is log2(recent share / baseline share); readers want "+120%"
    env.filters["change"] = lambda v: f"{100 * (2 ** float(v) - 1):+.0f}%"
    env.filters["items"] = lambda n, unit: f"{n} {unit[:-1] if unit == 'items' and int(n) == 1 else unit}"
    env.globals.update(sparkline=sparkline, bars=bars, sentiment_line=sentiment_line)
    return env


def render_html(report: dict) -> str:
    return _env().get_template("report.html.j2").render(**report)


def render_markdown(report: dict) -> str:
    env = _env()
    return env.get_template("report.md.j2").render(**report)


def render_alerts_markdown(report: dict) -> str:
    """The Markdown table of what changed since the last run (the report's ``changes``), for the koe-alerts
    artifact."""
    labels = report["labels"]
    lines = [f"# {labels['changes']}", "", f"| {labels['alert']} | {labels['issue']} | {labels['stage']} | "
             f"{labels['count']} |", "|---|---|---|---:|"]
    lines += [f"| {c['alert_name']} | {c['label']} | {c['stage_name']} | {c['recent_count']} |"
              for c in report["changes"]]
    return "\n".join(lines)
