"""A small stored database for the weekly 小结 and the 质检分析报告 tests: five agents in two teams over
October and November 2026, scored by the real rules, with scores set so that who improved and who
slipped is known, a recording for one call, low-confidence turns and two verdicts.

Week 2026-W47 (16–22 Nov): agents 1001–1004 each say 你找领导去 (BAN-002) in two calls → a whole-team
session at the default threshold (3 agents); agent 1005 alone says 不知道 (NEG-002) → one-to-one coaching.
Every call opens with the agent's 工号 and name and the customer reads out a phone number, so an
example that is not anonymised shows them.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from sqlalchemy import insert, text

from qc.inspection.engine import Inspector
from qc.schema import Transcript, Utterance
from qc.store import Store
from qc.store.tables import verdicts

AUDIO = Path(__file__).resolve().parent.parent / "data" / "audio" / "stereo_call_8k.wav"
PHONE = "13812345678"
HOSTILE_NAME = '=HYPERLINK("http://x","y")'
AGENTS = {  # agent_id: (name, team)
    "1001": ("王芳", "一组"),
    "1002": ("李强", "一组"),
    "1003": ("赵敏", "二组"),
    "1004": ("陈静", "二组"),
    "1005": (HOSTILE_NAME, "二组"),
}
# (October score, November score): 1001 +30 and 1004 +5 improve, 1002 −25 slips, 1003 +1 stays
SCORES = {"1001": (60.0, 90.0), "1002": (95.0, 70.0), "1003": (80.0, 81.0), "1004": (70.0, 75.0)}
WEEK = "2026-W47"


def _call(call_id: str, agent: str, started_at: str, hit: str, audio: Path | None = None) -> Transcript:
    name = AGENTS[agent][0]
    utts = (
        Utterance("agent", f"您好，中通速递，工号{agent}，{name}为您服务", 0.7, 3.7, -0.3),
        Utterance("customer", f"我的快件还没有收到，我电话是{PHONE}", 5.4, 7.9, -1.6),
        Utterance("agent", hit, 9.81, 12.05, -0.2),
        Utterance("customer", "你这是什么态度", 13.8, 15.1, -0.4),
        Utterance("agent", "感谢您的来电，再见", 16.0, 18.0, -0.3),
    )
    return Transcript(
        call_id, agent, utts, agent_name=name, started_at=started_at, audio=str(audio) if audio else None,
        asr={"model": "test"},
    )  # fmt: skip


def calls() -> list[tuple[Transcript, float]]:
    """(transcript, score) of every call."""
    out: list[tuple[Transcript, float]] = []
    for agent, (october, november) in SCORES.items():
        for i in range(3):
            out.append((_call(f"OCT-{agent}-{i}", agent, f"2026-10-1{i}T10:00:00+08:00", "好的，我帮您查"), october))
        out.append((_call(f"NOV-{agent}-0", agent, "2026-11-03T10:00:00+08:00", "好的，我帮您查"), november))
        for i in range(2):
            audio = AUDIO if agent == "1001" and i == 0 else None
            out.append(
                (
                    _call(f"W47-{agent}-{i}", agent, f"2026-11-1{7 + i}T10:00:00+08:00", "这件事你找领导去", audio),
                    november,
                )
            )
    out.append((_call("W47-1005-0", "1005", "2026-11-19T10:00:00+08:00", "这个我也不知道"), 96.0))
    return out


def build(url: str, inspector: Inspector) -> None:
    """Score and store every call with its set score; teams in the agents table; two verdicts on BAN-002."""
    store = Store(url)
    items = []
    for transcript, score in calls():
        result = inspector.score(transcript)
        items.append((transcript, replace(result, score=score, veto=False)))
    store.save(items)
    with store.engine.begin() as conn:
        for agent, (_name, team) in AGENTS.items():
            conn.execute(text("UPDATE agents SET team = :t WHERE agent_id = :a"), {"t": team, "a": agent})
        hit_ids = conn.execute(
            text(
                "SELECT call_id, hit_id FROM hits WHERE rule_id = 'BAN-002' AND call_id LIKE 'W47-100%' "
                "ORDER BY call_id"
            )
        ).all()
        for (call_id, hit_id), verdict in zip(hit_ids[:2], (True, False), strict=True):
            conn.execute(
                insert(verdicts).values(
                    call_id=call_id, hit_id=hit_id, verdict=verdict, reason=None if verdict else "asr", by_user="insp1",
                    at="2026-11-24T09:00:00+00:00", machine_status="confirmed", rule_id="BAN-002", utterance=2,
                    text="你找领导去",
                )
            )  # fmt: skip
    store.close()


def chromium() -> str | None:
    """Debian's chromium, or None."""
    path = os.environ.get("QC_CHROMIUM", "/usr/bin/chromium")
    return path if Path(path).is_file() else None
