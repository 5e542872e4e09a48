"""Write trainer example packs: .xlsx, .csv, .jsonl, or one self-contained .html page whose audio
players play the clip around each hit, cut from the recording and embedded as data: URIs.

The spreadsheet forms go through qc.reports.tables (no cell can run as a formula, numbers stay
numbers); the page escapes every value it shows; JSON Lines is for programs and keeps the text as
it is. Every form is written atomically and fails with one qc.errors.OutputError line.
"""

from __future__ import annotations

import base64
import html
import io
import json
import wave
from pathlib import Path

import numpy as np
import pandas as pd

from qc.errors import AudioError, ReportError
from qc.files import write_text_atomic
from qc.reports.examples import Example, example_record
from qc.reports.labels import AUDIO_UNPLAYABLE, EXAMPLE_HEADERS, EXAMPLES_CUT, EXAMPLES_SHEET, EXAMPLES_TITLE
from qc.reports.tables import write_csv, write_xlsx_table
from qc.speech.audio import SAMPLE_RATE, load_recording

FORMATS = (".xlsx", ".csv", ".jsonl", ".html")
_WIDTHS = (24, 8, 8, 20, 10, 10, 16, 24, 20, 30, 36, 6, 8, 8, 60)
# Columns that wrap in the workbook: 原话, 说明, 建议说法, 手册出处 and 前后对话 (one turn per line).
_WRAPPED = {i for i, key in enumerate(EXAMPLE_HEADERS) if key in ("text", "detail", "suggestion", "source", "turns")}


def write_examples(examples: list[Example], path: Path, clip_margin: float = 1.5, total: int | None = None) -> int:
    """Write ``examples`` in the format the suffix of ``path`` names; returns how many were written.
    ``total``: how many hits matched before a limit cut the list; the page and the workbook say so
    when it is more than were written (CSV and JSON Lines stay plain tables for programs).

    Raises ReportError for an unknown suffix and qc.errors.OutputError (one line, naming ``path``)
    when the file cannot be written; no partial file is left either way.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"{path}: unknown format; use one of {', '.join(FORMATS)}")
    records = [example_record(e) for e in examples]
    cut = EXAMPLES_CUT.format(total=total, shown=len(examples)) if total and total > len(examples) else None
    if suffix in (".csv", ".xlsx"):
        headers = list(EXAMPLE_HEADERS.values())
        frame = pd.DataFrame(records, columns=headers)
        if suffix == ".csv":
            return write_csv(frame, path)
        return write_xlsx_table(frame, path, EXAMPLES_SHEET, widths=_WIDTHS, wrap=_WRAPPED, note=cut)
    if suffix == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        text = _html(examples, clip_margin, cut)
    write_text_atomic(path, text)
    return len(examples)


def clip_wav(audio_path: str, start: float, end: float, cache: dict[str, np.ndarray]) -> bytes:
    """A mono 16 kHz WAV of [start, end] seconds of a recording (both channels mixed)."""
    if audio_path not in cache:
        rec = load_recording(audio_path)
        cache[audio_path] = np.mean(np.stack(rec.channels), axis=0) if len(rec.channels) > 1 else rec.channels[0]
    samples = cache[audio_path][max(0, int(start * SAMPLE_RATE)) : int(end * SAMPLE_RATE)]
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


_STYLE = """body{font-family:"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;max-width:60em;color:#222}
.ex{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}.meta{color:#666;font-size:.9em}
.hit{background:#fff3cd}.src{color:#555;font-size:.9em;margin:.3em 0}.cut{color:#9c0006;font-weight:bold}
.rule{font-weight:bold}.sug{color:#146c2e}.turn{margin:.2em 0}mark{background:#f8d7da}"""


def turns_html(e: Example) -> list[str]:
    """The example's turns as HTML, the hit's words marked in the hit turn."""
    esc = html.escape
    out = []
    for t in e.turns:
        text = esc(t.text)
        if t.is_hit and e.text:
            text = text.replace(esc(e.text), f"<mark>{esc(e.text)}</mark>", 1)
        out.append(f"<div class='turn{' hit' if t.is_hit else ''}'>{esc(t.speaker)}：{text}</div>")
    return out


def clip_html(e: Example, margin: float, cache: dict[str, np.ndarray]) -> list[str]:
    """The hit's stretch of the recording as an embedded player (``margin`` seconds each side), a line
    saying why it cannot play, or nothing when the recording is not reachable."""
    if not (e.audio and e.start is not None and Path(e.audio).is_file()):
        return []
    try:
        clip = clip_wav(e.audio, e.start - margin, (e.end or e.start) + margin, cache)
    except AudioError as err:
        return [f"<div class='meta'>{AUDIO_UNPLAYABLE}：{html.escape(str(err))}</div>"]
    data = base64.b64encode(clip).decode()
    return [f"<audio controls preload='none' src='data:audio/wav;base64,{data}'></audio>"]


def _html(examples: list[Example], margin: float, cut: str | None = None) -> str:
    cache: dict[str, np.ndarray] = {}
    parts = [
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{EXAMPLES_TITLE}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{EXAMPLES_TITLE}（{len(examples)} 条）</h1>"
    ]
    if cut:
        parts.append(f"<p class='cut'>{html.escape(cut)}</p>")
    for e in examples:
        esc = html.escape
        parts.append("<div class='ex'>")
        parts.append(
            f"<div class='rule'>{esc(e.rule_id)} {esc(e.category)} · {esc(e.rule_name)}（扣 {e.deduction:g} 分）</div>"
        )
        parts.append(
            f"<div class='meta'>通话 {esc(e.call_id)} · 工号 {esc(e.agent_id)} {esc(e.agent_name or '')}"
            f" · {esc(e.started_at or '')}" + (f" · {e.start:.1f} 秒" if e.start is not None else "") + "</div>"
        )
        if e.source:
            parts.append(f"<div class='src'>{EXAMPLE_HEADERS['source']}：{esc(e.source)}</div>")
        parts += turns_html(e)
        if not e.turns and e.detail:
            parts.append(f"<div class='turn'>{esc(e.detail)}</div>")
        if e.suggestion:
            parts.append(f"<div class='sug'>{EXAMPLE_HEADERS['suggestion']}：{esc(e.suggestion)}</div>")
        parts += clip_html(e, margin, cache)
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
