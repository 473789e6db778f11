"""Rendering the report data to self-contained HTML (inline CSS and SVG charts, no scripts) and Markdown."""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, PackageLoader


def sparkline(values: list[float], width: int = 140, height: int = 30) -> str:
    """An inline SVG polyline of ``values`` with the last point marked."""
    if not values:
        return ""
    top = max(max(values), 1)
    step = width / max(len(values) - 1, 1)
    points = [(i * step, height - 3 - (v / top) * (height - 6)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    lx, ly = points[-1]
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{" ".join(str(int(v)) for v in values)}"><polyline fill="none" stroke="#c0392b" '
            f'stroke-width="1.6" points="{path}"/><circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" fill="#c0392b"/></svg>')


def bars(rows: list[dict], width: int = 520) -> str:
    """A horizontal SVG bar chart: one bar per row (``name``, ``count``), the negative part darker."""
    if not rows:
        return ""
    top = max(r["count"] for r in rows) or 1
    height = 24 * len(rows) + 4
    out = [f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    for i, r in enumerate(rows):
        y = 4 + i * 24
        full = (width - 190) * r["count"] / top
        neg = full * r["negative_share"]
        out.append(f'<text x="0" y="{y + 14}" font-size="12">{_esc(r["name"])}</text>'
                   f'<rect x="120" y="{y}" width="{full:.1f}" height="18" fill="#f5b7b1"/>'
                   f'<rect x="120" y="{y}" width="{neg:.1f}" height="18" fill="#c0392b"/>'
                   f'<text x="{124 + full:.1f}" y="{y + 14}" font-size="12">{r["count"]}</text>')
    out.append("</svg>")
    return "".join(out)


def sentiment_line(points: list[dict], width: int = 520, height: int = 120) -> str:
    """Weekly volume bars with the mean sentiment (-1..1) as a line."""
    if not points:
        return ""
    n = len(points)
    top = max(p["count"] for p in points) or 1
    bw = width / n
    out = [f'<svg class="trend" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">',
           f'<line x1="0" y1="{height / 2}" x2="{width}" y2="{height / 2}" stroke="#ccc" stroke-dasharray="3"/>']
    line = []
    for i, p in enumerate(points):
        h = (height - 20) * p["count"] / top
        out.append(f'<rect x="{i * bw + 4:.1f}" y="{height - h:.1f}" width="{bw - 8:.1f}" height="{h:.1f}" '
                   f'fill="#d6eaf8"><title>{p["week"]}: {p["count"]}</title></rect>')
        line.append(f"{i * bw + bw / 2:.1f},{height / 2 - p['mean_sentiment'] * (height / 2 - 6):.1f}")
    out.append(f'<polyline fill="none" stroke="#1f618d" stroke-width="2" points="{" ".join(line)}"/></svg>')
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
    env.globals.update(sparkline=sparkline, bars=bars, sentiment_line=sentiment_line)
    return env


def render_html(report: dict) -> str:
    return _env().get_template("report.html.j2").render(**report)


def render_markdown(report: dict) -> str:
    env = _env()
    return env.get_template("report.md.j2").render(**report)
