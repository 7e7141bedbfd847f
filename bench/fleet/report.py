# Copyright (c) groundwork developers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The marginal costs of bench/fleet.sh's runs, its targets, and its picture (an SVG file).

Reads the results bench/fleet.sh writes, one line a size, tab-separated:
    hosts balancers databases appservers cold_s noop_s change_s cpu_s pss_mb rss_mb load
and prints:
- the marginal cost per added host of each kind of run (cold, noop, change): the
  least-squares slope of the seconds against the number of hosts over every size;
- the marginal cost per added application server: the slope against the number of
  application servers over the sizes with the same balancers and database servers as the
  largest one (bench/fleet/inventory.py: two databases from 8 hosts on), or over every size
  when fewer than two sizes share them;
- the slope of each step between two sizes (a run that grows faster than linearly has
  growing steps), and the targets of issue 18: the no-op's steps no steeper than its
  overall slope allows (the last step at most 1.5 times the least-squares slope; the
  machine's noise is about that), at most 0.3 s per added application server, and the
  controller's memory under 1 GiB at 32 hosts (or the largest size below it);
and draws time against hosts, one panel per kind of run with its own scale (a cold
converge takes ten times a no-op), the points, the least-squares line and its slope, as an
SVG picture written by hand (no plotting library).

Usage: report.py RESULTS [--svg FILE] [--title TEXT]
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from xml.sax.saxutils import escape

KINDS = (
    ("cold_s", "cold converge", "#b5523b"),
    ("noop_s", "no-op re-run", "#2e6f9e"),
    ("change_s", "change run (one app setting)", "#4a8a3c"),
)
COLUMNS = ("hosts", "balancers", "databases", "appservers", "cold_s", "noop_s", "change_s", "cpu_s", "pss_mb")
TARGET_PER_APP = 0.3
TARGET_MEMORY_MB = 1024
LINEAR_SLACK = 1.5


def read(path):
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            row = dict(zip(COLUMNS, (float(value) for value in fields[: len(COLUMNS)]), strict=False))
            row["rss_mb"] = float(fields[9]) if len(fields) > 9 else math.nan
            row["load"] = fields[10] if len(fields) > 10 else ""
            rows.append(row)
    return sorted(rows, key=lambda row: row["hosts"])


def slope(xs, ys):
    """Least-squares slope and intercept, or (nan, nan) for fewer than two distinct x."""
    points = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
    if len({x for x, _y in points}) < 2:
        return math.nan, math.nan
    mean_x = sum(x for x, _y in points) / len(points)
    mean_y = sum(y for _x, y in points) / len(points)
    sxx = sum((x - mean_x) ** 2 for x, _y in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    b = sxy / sxx
    return b, mean_y - b * mean_x


def same_tiers(rows):
    """The rows with the largest size's balancers and databases (so only application servers differ)."""
    last = rows[-1]
    chosen = [r for r in rows if (r["balancers"], r["databases"]) == (last["balancers"], last["databases"])]
    return chosen if len(chosen) >= 2 else rows


def fmt(value, digits=2):
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def marginal(rows):
    """Lines of text: the marginal costs, the steps, the targets."""
    lines = []
    hosts = [r["hosts"] for r in rows]
    app_rows = same_tiers(rows)
    sizes = " ".join(str(int(r["hosts"])) for r in app_rows)
    for key, _label, _colour in KINDS:
        per_host, _b = slope(hosts, [r[key] for r in rows])
        per_app, _b = slope([r["appservers"] for r in app_rows], [r[key] for r in app_rows])
        steps = [
            (b[key] - a[key]) / (b["hosts"] - a["hosts"])
            for a, b in itertools.pairwise(rows)
            if not (math.isnan(a[key]) or math.isnan(b[key]))
        ]
        lines.append(
            f"fleet-marginal: run={key[:-2]} per_host_s={fmt(per_host, 3)} per_app_server_s={fmt(per_app, 3)}"
            f" (app servers: sizes {sizes}) steps_s_per_host={','.join(fmt(s, 3) for s in steps) or 'n/a'}"
        )
    noop_slope, _b = slope(hosts, [r["noop_s"] for r in rows])
    steps = [(b["noop_s"] - a["noop_s"]) / (b["hosts"] - a["hosts"]) for a, b in itertools.pairwise(rows)]
    if steps and not math.isnan(noop_slope):
        linear = steps[-1] <= LINEAR_SLACK * max(noop_slope, 0.0) + 1e-9
        lines.append(
            f"fleet-target: no-op grows no faster than linearly: last step {fmt(steps[-1], 3)} s/host"
            f" <= {LINEAR_SLACK} x slope {fmt(noop_slope, 3)} s/host: {'met' if linear else 'MISSED'}"
        )
    per_app, _b = slope([r["appservers"] for r in app_rows], [r["noop_s"] for r in app_rows])
    if not math.isnan(per_app):
        lines.append(
            f"fleet-target: no-op per added application server {fmt(per_app, 3)} s <= {TARGET_PER_APP} s:"
            f" {'met' if per_app <= TARGET_PER_APP else 'MISSED'}"
        )
    at = [r for r in rows if r["hosts"] <= 32] or rows
    biggest = at[-1]
    lines.append(
        f"fleet-target: controller memory at {int(biggest['hosts'])} hosts {fmt(biggest['pss_mb'], 0)} MB"
        f" (PSS) < {TARGET_MEMORY_MB} MB: {'met' if biggest['pss_mb'] < TARGET_MEMORY_MB else 'MISSED'}"
    )
    return lines


def nice_step(top, ticks=5):
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def panel(rows, key, label, colour, left, top, width, height):
    """SVG elements of one panel: axes, grid, points, least-squares line."""
    out = []
    points = [(r["hosts"], r[key]) for r in rows if not math.isnan(r[key])]
    max_x = max(r["hosts"] for r in rows)
    step_x = nice_step(max_x, 4)
    top_x = math.ceil(max_x / step_x) * step_x
    max_y = max((y for _x, y in points), default=1.0) or 1.0
    step_y = nice_step(max_y * 1.1)
    top_y = math.ceil(max_y * 1.1 / step_y) * step_y

    def px(x):
        return left + x / top_x * width

    def py(y):
        return top + height - y / top_y * height

    out.append(f'<text x="{left + width / 2}" y="{top - 14}" class="title">{escape(label)}</text>')
    tick = 0.0
    while tick <= top_y + 1e-9:
        y = py(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + width}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="ylab">{tick:g}</text>')
        tick += step_y
    tick = 0.0
    while tick <= top_x + 1e-9:
        x = px(tick)
        out.append(
            f'<line x1="{x:.1f}" y1="{top + height}" x2="{x:.1f}" y2="{top + height + 4}" class="axis"/>'
        )
        out.append(f'<text x="{x:.1f}" y="{top + height + 17}" class="xlab">{tick:g}</text>')
        tick += step_x
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" class="axis"/>')
    out.append(
        f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" class="axis"/>'
    )
    out.append(f'<text x="{left + width / 2}" y="{top + height + 34}" class="xlab">hosts</text>')
    out.append(
        f'<text x="{left - 38}" y="{top + height / 2}" class="ylab" '
        f'transform="rotate(-90 {left - 38} {top + height / 2})" text-anchor="middle">seconds</text>'
    )
    b, a = slope([x for x, _y in points], [y for _x, y in points])
    if not math.isnan(b):
        x0, x1 = min(x for x, _y in points), max(x for x, _y in points)
        out.append(
            f'<line x1="{px(x0):.1f}" y1="{py(a + b * x0):.1f}" x2="{px(x1):.1f}" y2="{py(a + b * x1):.1f}"'
            f' stroke="{colour}" class="fit"/>'
        )
        out.append(f'<text x="{left + 8}" y="{top + 14}" class="note">{b:.2f} s per added host</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(points))
    if path:
        out.append(f'<path d="{path}" stroke="{colour}" class="curve"/>')
    for x, y in points:
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}"/>')
        out.append(f'<text x="{px(x):.1f}" y="{py(y) - 8:.1f}" class="value">{y:.1f}</text>')
    return out


def svg(rows, title, subtitle=""):
    width, height = 960, 370
    panel_width, panel_height, top = 230, 220, 80
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
        "<style>"
        ".title{font-size:14px;text-anchor:middle;font-weight:bold}"
        ".xlab{font-size:11px;text-anchor:middle;fill:#333}"
        ".ylab{font-size:11px;text-anchor:end;fill:#333}"
        ".value{font-size:10px;text-anchor:middle;fill:#222}"
        ".note{font-size:11px;fill:#555}"
        ".grid{stroke:#e4e4e4;stroke-width:1}"
        ".axis{stroke:#555;stroke-width:1}"
        ".curve{fill:none;stroke-width:2}"
        ".fit{stroke-width:1;stroke-dasharray:4 3;opacity:0.7}"
        "</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="24" class="title" style="font-size:16px">{escape(title)}</text>',
        f'<text x="{width / 2}" y="42" class="xlab">{escape(subtitle)}</text>',
    ]
    for index, (key, label, colour) in enumerate(KINDS):
        left = 70 + index * (panel_width + 85)
        parts += panel(rows, key, label, colour, left, top, panel_width, panel_height)
    parts.append(
        f'<text x="{width / 2}" y="{height - 8}" class="xlab">points: measured (median of the runs); '
        "dashed: least-squares line; each panel its own scale</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--svg")
    parser.add_argument("--title", default="playbooks/site.yml on a fleet: seconds against hosts")
    parser.add_argument("--subtitle", default="", help="under the title: the machine, the date")
    args = parser.parse_args(argv)
    rows = read(args.results)
    if not rows:
        print("fleet-marginal: no results", file=sys.stderr)
        return 1
    print("\n".join(marginal(rows)))
    if args.svg:
        with open(args.svg, "w", encoding="utf-8") as handle:
            handle.write(svg(rows, args.title, args.subtitle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
