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
    "team": "班组",
    "calls": "抽检通话数",
    "avg_score": "平均分",
    "rank": "排名",
    "min_score": "最低分",
    "pass_rate": "合格率",
    "veto_calls": "致命项次数",
    "opening_rate": "开场白合格率",
    "closing_rate": "结束语合格率",
    "polite_per_call": "文明用语(次/通)",
    "standard_rate": "规范服务率",
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
    "deductions": "扣分明细（时间 规则/考评项「原话」扣分，每条一行）",
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

# --- the 考评表's title block, teams, trend, definitions and print setup (issue 14) -----------------

SHEET_TITLE = "服务质量综合考评表"
TITLE_FIELDS: dict[str, str] = {
    "centre": "呼叫中心",
    "month": "考评月份",
    "ruleset": "规则版本",
    "pass_mark": "合格线",
    "scoring": "评分方法",
    "inspectors": "质检员",
    "made_on": "制表日期",
}
AUTO_INSPECTION = "自动质检（本月无人工复核）"
NO_TEAM = "未分组"
TEAM_TABLE_TITLE = "班组汇总"
TEAM_HEADERS: dict[str, str] = {
    "team": "班组",
    "agents": "坐席数",
    "calls": "抽检通话数",
    "avg_score": "平均分",
    "pass_rate": "合格率",
    "veto_calls": "致命项次数",
    "standard_rate": "规范服务率",
    "rank": "排名",
}
AGENT_TABLE_TITLE = "坐席考评"
# An earlier month's average on the 汇总 sheet (the trend): "2026-09平均分".
TREND_HEADER = "{month}平均分"
DEFINITIONS_TITLE = "指标说明"
# Every rate and figure of the 汇总 sheet, in words an inspector can check by hand.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    ("得分", "每通电话满分{base:g}分，减去各考评项的扣分（见评分方法）；致命项命中记{veto_score:g}分。"),
    ("平均分", "该坐席本月全部抽检通话得分的算术平均。"),
    ("排名", "按平均分从高到低，同分同名次（班组按班组平均分）。"),
    ("合格率", "得分不低于合格线{pass_mark:g}分且未命中致命项的通话 ÷ 抽检通话数。"),
    ("致命项次数", "命中致命项（一票否决）的通话数。"),
    ("开场白合格率", "开场白检查通过的通话 ÷ 抽检通话数。"),
    ("结束语合格率", "结束语检查通过的通话 ÷ 检查了结束语的通话数（录音截断、无法检查的不计）。"),
    ("文明用语(次/通)", "每通电话中坐席说出的文明用语（您好、请、谢谢、抱歉等）的平均次数。"),
    ("规范服务率", "开场白合格、结束语合格（或无法检查），且全通没有服务禁语、不规范用语命中的通话 ÷ 抽检通话数。"),
    ("考评项平均", "该考评项在每通电话上的小计（满分减该项扣分）的平均；没有致命项时各项相加等于平均分。"),
    ("X(次)", "本月该类别确认的违规条数（疑似、未复核的不计）。"),
    ("往月平均分", "往月同一坐席全部已存通话的平均分，取自数据库，不论哪次评分写入。"),
    ("环比(分)", "本月平均分 − 上月平均分；上月没有通话则空白。"),
    ("复核率", "有人工判定或补录的通话 ÷ 抽检通话数（有复核数据时才有此列）。"),
)
SIGNATURE_LINE = "质检员：__________    坐席：__________    班长：__________    日期：__________"
AGENT_HEADER = "坐席：{agent}   班组：{team}   月份：{month}   平均分：{avg}   排名：{rank}/{of}   抽检：{calls}通"
# One deduction on an agent's sheet: "01:23 BAN-002 让客户找领导/服务态度「你找领导去」−20分".
NO_POINTS = "不扣分"
SUSPECTED = "疑似，复核前不扣分"
FOOTER = "&L{title}{month}&C第 &P / &N 页&R&A"
AXIS_SCORE_BAND = "得分段（分）"
AXIS_CALLS = "通话数（通）"
AXIS_CATEGORY = "违规类别"
AXIS_HITS = "违规条数（条）"

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

# --- review and appeals on the monthly sheet (issue 11) ----------------------------------------------

# Appended to the summary when the month's review state is known: what people did to the agent's calls.
SUMMARY_REVIEW_HEADERS: dict[str, str] = {
    "reviewed_calls": "复核通话数",
    "review_rate": "复核率",  # calls with a verdict or a missed finding ÷ calls
    "false_hits": "误命中",  # hits judged false
    "manual_findings": "漏检补录",  # findings the machine missed, added by a reviewer
    "appeals": "申诉",  # appeals opened on the month's calls
    "overturned": "申诉改判",  # of those, accepted or partly accepted
    # points decided this month for calls of an earlier, locked month (see the 跨月调整 sheet)
    "adjust_points": "跨月调整分(往月通话)",
    "adjusted_avg": "调整后平均分(平均分+跨月调整分÷通话数)",
}
# Appended to each agent's call list: the call's own review state (empty: nobody looked at it).
DETAIL_REVIEW_HEADERS: dict[str, str] = {
    "reviewed": "已复核",
    "false_hits": "误命中",
    "manual_findings": "漏检补录",
    "appeals": "申诉",
    "overturned": "申诉改判",
}
# Shown on the 复核率 header of a locked month: the figures are those of the lock time.
LOCKED_NOTE = "{month} 已于 {at} 由 {by} 锁定：复核与申诉数字截至锁定时；之后的改判记入以后月份的「跨月调整」。"

# Why a reviewer said a hit was false (verdicts.reason).
FALSE_HIT_REASONS: dict[str, str] = {"asr": "识别错误", "rule": "规则问题", "context": "语境误判", "other": "其他"}

PRECISION_SHEET = "规则准确率"
PRECISION_HEADERS: dict[str, str] = {
    "rule_id": "规则编号",
    "rule_name": "规则",
    "reviewed": "复核数",
    "confirmed": "真命中",
    "false": "误命中",
    "precision": "准确率",
    "low": "95%区间下限",
    "high": "95%区间上限",
    **{f"reason_{r}": f"误命中原因:{n}" for r, n in FALSE_HIT_REASONS.items()},
}
NO_VERDICTS = "本月通话没有复核判定（真命中/误命中），无法计算规则准确率。"
# Beside the summary CSV: 2026-11.csv → 2026-11_规则准确率.csv.
PRECISION_FILE_SUFFIX = "_规则准确率"

# Changes decided after an earlier month was locked, shown in the month they were decided in.
ADJUSTMENT_SHEET = "跨月调整"
ADJUSTMENT_HEADERS: dict[str, str] = {
    "call_id": "通话编号",
    "agent_id": "工号",
    "name": "姓名",
    "call_month": "通话所属月份",
    "points": "调整分",
    "cause": "原因",
    "appeal_id": "申诉编号",
    "comment": "说明",
    "by_user": "处理人",
    "at": "处理时间",
}
ADJUSTMENT_CAUSES: dict[str, str] = {"appeal": "申诉改判", "review": "复核改判"}
NO_ADJUSTMENTS = "本月没有跨月调整（已锁定月份的通话在本月改判的分数）。"
ADJUSTMENT_FILE_SUFFIX = "_跨月调整"

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
    "source": "手册出处",
    "deduction": "扣分",
    "start": "开始(秒)",
    "end": "结束(秒)",
    "turns": "前后对话",
}
EXAMPLES_TITLE = "违规示例"
# When --limit cut the list: said above the examples (page, workbook) and by the command.
EXAMPLES_CUT = "共 {total:,} 条符合条件，仅列出最新的 {shown:,} 条（--limit）"
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
REASON_SUSPECT = "疑似待确认"  # a suspected hit nobody has judged yet (qc.review.queue)
REASON_COMPLAINT = "投诉来电"  # a complaint call (call category 投诉)
# The column of the inspector a call is assigned to (qc sample --assign).
INSPECTOR_HEADER = "质检员"
