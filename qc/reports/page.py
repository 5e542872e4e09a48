"""Pieces of the self-contained HTML reports (weekly 小结, monthly 质检分析报告): one style sheet with print
rules for A4, escaped tables, and example blocks whose clip is embedded as a data: URI.

Nothing on a page refers outside it (no fonts, scripts or images by URL): the page is mailed, opened
offline and printed to PDF from the browser (Ctrl+P → 另存为 PDF); ``@media print`` keeps tables and
charts whole across pages and repeats table headers.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np

from qc.reports.examples import Example
from qc.reports.examples_write import clip_html, turns_html

esc = html.escape

STYLE = """
:root{--line:#d0d7de;--muted:#57606a;--head:#eef3f8}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:2em auto;max-width:64em;color:#1f2328;line-height:1.5;padding:0 1em}
h1{font-size:1.6em;margin:.2em 0}
h2{font-size:1.25em;border-bottom:2px solid #1f6feb;padding-bottom:.2em;margin-top:1.6em}
h3{font-size:1.05em;margin:1em 0 .3em}.muted,.meta{color:var(--muted);font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.9em}
th,td{border:1px solid var(--line);padding:.25em .45em;vertical-align:top;text-align:left}
th{background:var(--head)}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.facts{display:flex;flex-wrap:wrap;gap:.6em;margin:.6em 0}
.fact{border:1px solid var(--line);border-radius:6px;padding:.4em .8em;min-width:8em}
.fact b{display:block;font-size:1.3em}
.card{border:1px solid var(--line);border-radius:6px;padding:.6em 1em;margin:.8em 0}
.source{background:#f6f8fa;border-left:4px solid #8c959f;padding:.3em .6em;margin:.3em 0}
.sug{color:#116329}.ex{border-top:1px dashed var(--line);padding-top:.4em;margin-top:.4em}
.turn{margin:.15em 0}.hit{background:#fff8c5}mark{background:#ffd8d3}
figure{margin:1em 0;text-align:center}figure img{max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:.85em}
.up{color:#116329}.down{color:#cf222e}
@page{size:A4;margin:14mm 12mm}
@media print{
  body{margin:0;max-width:none;font-size:10.5pt}
  h2{break-after:avoid}table,figure,.card{break-inside:avoid}
  thead{display:table-header-group}tr{break-inside:avoid}
  audio{display:none}.noprint{display:none}
}
"""


def document(title: str, body: Iterable[str]) -> str:
    """A whole page: doctype, UTF-8, the style sheet inline, ``body`` joined."""
    return (
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{esc(title)}</title>"
        f"<style>{STYLE}</style></head><body>" + "\n".join(body) + "</body></html>"
    )


def cell(value: object) -> str:
    """One table cell: numbers right-aligned (1 decimal for floats), text escaped, gaps empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'是' if value else '否'}</td>"
    if isinstance(value, int | np.integer):
        return f"<td class='n'>{int(value)}</td>"
    if isinstance(value, float | np.floating):
        return f"<td class='n'>{float(value):.1f}</td>"
    return f"<td>{esc(str(value))}</td>"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], raw: bool = False) -> str:
    """An HTML table; ``raw``: the cells are ready-made HTML (already escaped)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = (
        "".join(f"<tr>{''.join(c if raw else cell(c) for c in row)}</tr>" for row in rows)
        if raw
        else "".join(f"<tr>{''.join(cell(c) for c in row)}</tr>" for row in rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def facts(items: Sequence[tuple[str, str]]) -> str:
    """Key figures in boxes (label, value)."""
    return (
        "<div class='facts'>" + "".join(f"<div class='fact'>{esc(k)}<b>{esc(v)}</b></div>" for k, v in items) + "</div>"
    )


def example_block(e: Example, who: str, cache: dict[str, np.ndarray], margin: float = 1.0) -> str:
    """One example: who and when, the turns around the hit (the hit marked), and the clip of the hit's
    turn as audio when the recording can be read — else the quoted words are all there is."""
    parts = [f"<div class='ex'><div class='meta'>{esc(who)}" + (f" · {esc(e.started_at)}" if e.started_at else "")]
    if e.start is not None:
        parts.append(f" · {e.start:.1f} 秒")
    parts.append(f" · 扣 {e.deduction:g} 分</div>")
    parts += turns_html(e)
    if not e.turns:
        parts.append(f"<div class='turn hit'>原话：<mark>{esc(e.text or e.detail or '')}</mark></div>")
    parts += clip_html(e, margin, cache)
    parts.append("</div>")
    return "".join(parts)
