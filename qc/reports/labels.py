"""Every Chinese word an inspector reads in a report: column headers, sheet names, category names.

They live in one place so that the monthly sheets, the trainer examples and the listening list
call the same thing by the same name (a 类别 column says 服务禁语 everywhere), and so that a
wording change is one edit. The tables are built with English snake_case columns and take these
headers only when they are written.
"""

from __future__ import annotations

# Rule categories as the service manual names them (qc.schema.CATEGORIES → display name).
CATEGORY_NAMES: dict[str, str] = {
    "banned": "服务禁语",
    "nonstandard": "不规范用语",
    "filler": "口头禅",
    "negative": "负面表达",
    "opening": "开场白",
    "closing": "结束语",
    "silence": "静默",
    "interruption": "抢话",
    "speech_rate": "语速",
    "process": "服务流程",
}

SPEAKER_NAMES: dict[str, str] = {"agent": "坐席", "customer": "客户", "unknown": "未知"}

YES = "是"
NO = "否"
NOT_CHECKED = "未检查"

# --- the monthly quality sheet (服务质量综合考评表) -------------------------------------------------

SUMMARY_SHEET = "汇总"
CHART_SHEET = "图表"
# An agent's sheet when nothing usable is left of "工号 姓名" after cleaning.
AGENT_SHEET_FALLBACK = "坐席"

SUMMARY_HEADERS: dict[str, str] = {
    "agent_id": "工号",
    "name": "姓名",
    "calls": "抽检通话数",
    "avg_score": "平均分",
    "rank": "排名",
    "min_score": "最低分",
    "pass_rate": "合格率",
    "veto_calls": "致命项次数",
    "opening_rate": "开场白合格率",
    "closing_rate": "结束语合格率",
    "polite_per_call": "文明用语(次/通)",
    "polite_rate": "文明用语使用率",
    **{f"n_{c}": f"{n}(次)" for c, n in CATEGORY_NAMES.items()},
    "prev_avg_score": "上月平均分",
    "change": "环比(分)",
}

DETAIL_HEADERS: dict[str, str] = {
    "call_id": "通话编号",
    "started_at": "通话时间",
    "score": "得分",
    "veto": "致命项",
    "lost": "扣分合计",
    "opening_ok": "开场白",
    "closing_ok": "结束语",
    "polite_count": "文明用语次数",
    "n_hits": "违规条数",
    "deductions": "扣分明细（规则 扣分 时间 原话）",
}

HIT_HEADERS: dict[str, str] = {
    "agent_id": "工号",
    "name_agent": "姓名",
    "call_id": "通话编号",
    "started_at": "通话时间",
    "rule_id": "规则编号",
    "category": "类别",
    "name": "规则",
    "deduction": "扣分",
    "time": "时间(秒)",
    "text": "原话",
    "suggestion": "建议说法",
    "detail": "说明",
}

# A 考评项's column: its average subtotal over the agent's calls (汇总) or its subtotal on one call.
ITEM_SUMMARY_HEADER = "{name}(满分{weight:g})平均"
ITEM_DETAIL_HEADER = "{name}(满分{weight:g})"
CALL_CATEGORIES_HEADER = "来电类别"

# The sheet that cuts each agent's calls by what the customer called about (查件, 投诉…).
CALL_CATEGORY_SHEET = "来电类别"
CALL_CATEGORY_HEADERS: dict[str, str] = {
    "agent_id": "工号",
    "name": "姓名",
    "call_category": "来电类别",
    "calls": "通话数",
    "avg_score": "平均分",
    "pass_rate": "合格率",
    "veto_calls": "致命项次数",
}
NO_CALL_CATEGORY = "未分类"

# The chart sheet's two small tables and the charts drawn from them.
SCORE_BAND = "分数段"
CALL_COUNT = "通话数"
CATEGORY = "类别"
HIT_COUNT = "次数"
SCORE_BANDS = ("60以下", "60–69", "70–79", "80–89", "90–100")
SCORE_CHART_TITLE = "{month} 得分分布"
CATEGORY_CHART_TITLE = "{month} 各类违规次数"
# Suffix of the per-hit CSV written beside the monthly summary CSV: 2026-11.csv → 2026-11_明细.csv.
HITS_FILE_SUFFIX = "_明细"

# --- violation examples for trainers (qc examples) -------------------------------------------------

EXAMPLES_SHEET = "违规示例"
EXAMPLE_HEADERS: dict[str, str] = {
    "call_id": "通话编号",
    "agent_id": "工号",
    "agent_name": "姓名",
    "started_at": "通话时间",
    "rule_id": "规则编号",
    "category": "类别",
    "rule_name": "规则",
    "text": "原话",
    "detail": "说明",
    "suggestion": "建议说法",
    "deduction": "扣分",
    "start": "开始(秒)",
    "end": "结束(秒)",
    "turns": "前后对话",
}
EXAMPLES_TITLE = "违规示例"
AUDIO_UNPLAYABLE = "录音无法播放"

# --- the listening list (qc sample) ----------------------------------------------------------------

SAMPLE_SHEET = "复听清单"
SAMPLE_HEADERS: dict[str, str] = {
    "seq": "序号",
    "agent_id": "工号",
    "name": "姓名",
    "call_id": "通话编号",
    "started_at": "通话时间",
    "score": "得分",
    "veto": "致命项",
    "reason": "抽样原因",
    "audio": "录音",
    "verdict": "复听结论",
    "reviewer": "复听人",
}
# Why a call is on the listening list.
REASON_VETO = "致命项"
REASON_LOW = "低分"
REASON_ROLES = "角色存疑"
REASON_RANDOM = "随机抽样"
