#!/usr/bin/python3
"""Renders deploy/grafana/voxgate.json without Grafana (which Debian does not
ship): every panel's queries over the last minutes of a Prometheus, drawn as
SVG line charts laid out on the dashboard's grid, in one HTML page. For the
README's picture and for a look at a test run; not a Grafana replacement.

  tools/render-dashboard.py http://127.0.0.1:9090 out.html [--minutes 3] [--job voxgate]"""

import argparse
import html
import json
import math
import os
import time
import urllib.parse
import urllib.request

COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff", "#fade2a"]
UNITS = {"s": ("s", 1), "percentunit": ("%", 100), "bps": ("bit/s", 1), "pps": ("/s", 1),
         "reqps": ("req/s", 1), "short": ("", 1)}


def query_range(prom, expr, minutes):
    end = time.time()
    params = urllib.parse.urlencode({"query": expr, "start": end - minutes * 60, "end": end,
                                     "step": max(1, minutes * 60 // 120)})
    with urllib.request.urlopen(f"{prom}/api/v1/query_range?{params}", timeout=10) as res:
        return json.load(res)["data"]["result"]


def legend(fmt, labels):
    out = fmt or "{{__name__}}"
    for k, v in labels.items():
        out = out.replace("{{" + k + "}}", v)
    return out.replace("{{__name__}}", "").strip() or "value"


def fmt_value(v, unit):
    suffix, scale = UNITS.get(unit, ("", 1))
    v *= scale
    if unit == "s" and v < 1:
        return f"{v * 1000:.3g} ms"
    if abs(v) >= 1000:
        return f"{v / 1000:.3g}k{suffix}"
    return f"{v:.3g}{(' ' + suffix) if suffix and suffix != '%' else suffix}"


def chart(series, unit, w, h):
    pts = [(t, v) for s in series for t, v in s["points"]]
    if not pts:
        return f'<svg width="{w}" height="{h}"><text x="{w/2}" y="{h/2}" fill="#888" ' \
               f'text-anchor="middle">No data</text></svg>'
    t0, t1 = min(p[0] for p in pts), max(p[0] for p in pts)
    v0, v1 = min(0, min(p[1] for p in pts)), max(p[1] for p in pts)
    if v1 == v0:
        v1 = v0 + 1
    left, bottom = 62, 18
    sx = lambda t: left + (t - t0) / max(t1 - t0, 1) * (w - left - 8)
    sy = lambda v: 6 + (1 - (v - v0) / (v1 - v0)) * (h - bottom - 6)
    out = [f'<svg width="{w}" height="{h}">']
    for i in range(5):
        v = v0 + (v1 - v0) * i / 4
        y = sy(v)
        out.append(f'<line x1="{left}" x2="{w - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#2c3235"/>'
                   f'<text x="{left - 4}" y="{y + 4:.1f}" fill="#9fa7b3" font-size="10" '
                   f'text-anchor="end">{html.escape(fmt_value(v, unit))}</text>')
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        path = " ".join(f"{'M' if j == 0 else 'L'}{sx(t):.1f},{sy(v):.1f}"
                        for j, (t, v) in enumerate(s["points"]))
        out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>')
    out.append("</svg>")
    return "".join(out)


def render(prom, out_path, minutes=3, job="voxgate", dashboard=None):
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(dashboard or os.path.join(src, "deploy", "grafana", "voxgate.json")) as f:
        dash = json.load(f)
    cell_w, cell_h, gap = 64, 34, 8
    blocks = []
    height = 0
    for panel in dash["panels"]:
        g = panel["gridPos"]
        x, y, w, h = g["x"] * cell_w, g["y"] * cell_h, g["w"] * cell_w - gap, g["h"] * cell_h - gap
        height = max(height, y + h + gap)
        if panel["type"] == "row":
            blocks.append(f'<div class="row" style="left:{x}px;top:{y}px;width:{24 * cell_w}px">'
                          f'{html.escape(panel["title"])}</div>')
            continue
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        series = []
        for target in panel["targets"]:
            expr = target["expr"].replace("$instance", ".*").replace("$__rate_interval", "1m")
            expr = expr.replace('job="voxgate"', f'job="{job}"')
            for r in query_range(prom, expr, minutes):
                points = [(float(t), float(v)) for t, v in r["values"] if not math.isnan(float(v))]
                if points:
                    series.append({"name": legend(target.get("legendFormat"), r["metric"]),
                                   "points": points})
        keys = "".join(
            f'<span style="color:{COLORS[i % len(COLORS)]}">&#9644;</span> '
            f'{html.escape(s["name"])} <b>{html.escape(fmt_value(s["points"][-1][1], unit))}</b> &nbsp;'
            for i, s in enumerate(series[:6]))
        blocks.append(f'<div class="panel" style="left:{x}px;top:{y}px;width:{w}px;height:{h}px">'
                      f'<div class="title">{html.escape(panel["title"])}</div>'
                      f'{chart(series, unit, w - 12, h - 58)}<div class="keys">{keys}</div></div>')
    page = f"""<!doctype html><meta charset="utf-8"><title>{html.escape(dash['title'])}</title>
<style>body{{background:#111217;color:#ccccdc;font:12px sans-serif;margin:0}}
.head{{padding:8px 12px;font-size:15px}} .grid{{position:relative;height:{height}px;margin:0 8px}}
.panel{{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:2px;padding:4px 6px;box-sizing:border-box;overflow:hidden}}
.title{{font-weight:600;margin-bottom:2px}} .keys{{font-size:10.5px;white-space:nowrap;overflow:hidden}}
.row{{position:absolute;font-size:14px;font-weight:600;padding-top:8px}}</style>
<div class="head">{html.escape(dash['title'])} &mdash; rendered from deploy/grafana/voxgate.json by
tools/render-dashboard.py (Grafana is not in Debian), last {minutes} min of {html.escape(prom)}</div>
<div class="grid">{''.join(blocks)}</div>"""
    with open(out_path, "w") as f:
        f.write(page)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("prometheus")
    ap.add_argument("out")
    ap.add_argument("--minutes", type=int, default=3)
    ap.add_argument("--job", default="voxgate")
    a = ap.parse_args()
    render(a.prometheus, a.out, a.minutes, a.job)
