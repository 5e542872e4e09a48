"""Write trainer example packs: .xlsx, .csv, .jsonl, or one self-contained .html page whose audio
players play the clip around each hit, cut from the recording and embedded as data: URIs."""

from __future__ import annotations

import base64
import html
import io
import json
import wave
from pathlib import Path

import numpy as np
import pandas as pd

from qc.speech.audio import SAMPLE_RATE, load_recording
from qc.errors import AudioError, ReportError
from qc.reports.examples import Example, example_record
from qc.reports.write import atomic_output, write_csv

FORMATS = (".xlsx", ".csv", ".jsonl", ".html")


def write_examples(examples: list[Example], path: Path, clip_margin: float = 1.5) -> None:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"{path}: unknown format; use one of {', '.join(FORMATS)}")
    records = [example_record(e) for e in examples]
    if suffix == ".csv":
        write_csv(pd.DataFrame(records), path)
    elif suffix == ".jsonl":
        with atomic_output(path) as tmp:
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    elif suffix == ".xlsx":
        with atomic_output(path) as tmp, pd.ExcelWriter(tmp, engine="xlsxwriter") as writer:
            frame = pd.DataFrame(records)
            frame.to_excel(writer, sheet_name="违规示例", index=False)
            sheet = writer.sheets["违规示例"]
            sheet.freeze_panes(1, 0)
            for col, width in enumerate([24, 8, 8, 20, 10, 10, 16, 24, 20, 30, 6, 8, 8, 60]):
                sheet.set_column(col, col, width)
    else:
        with atomic_output(path) as tmp:
            tmp.write_text(_html(examples, clip_margin), encoding="utf-8")


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
.hit{background:#fff3cd}.rule{font-weight:bold}.sug{color:#146c2e}.turn{margin:.2em 0}mark{background:#f8d7da}"""


def _html(examples: list[Example], margin: float) -> str:
    cache: dict[str, np.ndarray] = {}
    parts = [
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>违规示例</title>"
        f"<style>{_STYLE}</style></head><body><h1>违规示例（{len(examples)} 条）</h1>"
    ]
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
        for t in e.turns:
            text = esc(t.text)
            if t.is_hit and e.text:
                text = text.replace(esc(e.text), f"<mark>{esc(e.text)}</mark>", 1)
            parts.append(f"<div class='turn{' hit' if t.is_hit else ''}'>{esc(t.speaker)}：{text}</div>")
        if not e.turns and e.detail:
            parts.append(f"<div class='turn'>{esc(e.detail)}</div>")
        if e.suggestion:
            parts.append(f"<div class='sug'>建议说法：{esc(e.suggestion)}</div>")
        if e.audio and e.start is not None and Path(e.audio).is_file():
            try:
                clip = clip_wav(e.audio, e.start - margin, (e.end or e.start) + margin, cache)
                data = base64.b64encode(clip).decode()
                parts.append(f"<audio controls preload='none' src='data:audio/wav;base64,{data}'></audio>")
            except AudioError as err:
                parts.append(f"<div class='meta'>录音无法播放：{esc(str(err))}</div>")
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
