"""Charts for the 质检分析报告 as PNG bytes: matplotlib's Agg canvas (no display, no network), one Figure
per chart (never pyplot's global state, so two reports in one process cannot draw into each other).

Chinese labels need a CJK font: the first installed of ``CJK_FONTS`` (Debian's fonts-noto-cjk gives
Noto Sans CJK SC) is used. Without one the charts are still made — the labels then show boxes — and
one warning says which package to install.
"""

from __future__ import annotations

import functools
import io
import logging
import warnings
from collections.abc import Sequence

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

log = logging.getLogger(__name__)

CJK_FONTS = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC", "Noto Sans CJK JP", "Noto Sans CJK TC",
)  # fmt: skip
COLOURS = ("#1f6feb", "#cf222e", "#2da44e", "#bf8700", "#8250df", "#57606a", "#0a7ea4", "#e16f24", "#6e7781")
DPI = 110


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed CJK font, or None (logged once)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    log.warning("no CJK font found (install fonts-noto-cjk): chart labels in Chinese will show as boxes")
    return None


def _figure(width: float = 8.0, height: float = 4.0) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)  # drawn by Agg whatever pyplot's backend is: no display needed
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        if cjk_font() is None:  # said once already; not once more per missing glyph
            warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _style(ax: object, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title)  # type: ignore[attr-defined]
    ax.set_xlabel(xlabel)  # type: ignore[attr-defined]
    ax.set_ylabel(ylabel)  # type: ignore[attr-defined]
    ax.grid(axis="y", alpha=0.3)  # type: ignore[attr-defined]


def _rc() -> dict[str, object]:
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    return {"font.family": "sans-serif", "font.sans-serif": families, "axes.unicode_minus": False}


def histogram(lows: Sequence[float], counts: Sequence[int], width: float, pass_mark: float, title: str) -> bytes:
    """Calls per score bin (bins start at ``lows``), the pass mark as a line."""
    with matplotlib.rc_context(_rc()):
        fig = _figure()
        ax = fig.add_subplot()
        ax.bar(lows, counts, width=width * 0.9, align="edge", color=COLOURS[0])
        ax.axvline(pass_mark, color=COLOURS[1], linestyle="--", label=f"合格线 {pass_mark:g}")
        ax.legend(loc="upper left")
        ax.set_xlim(min([*lows, pass_mark]) - width, 100 + width)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _style(ax, title, "得分", "通话数")
        return _png(fig)


def trend(months: Sequence[str], averages: Sequence[float], pass_rates: Sequence[float], title: str) -> bytes:
    """Average score per month (left axis) and pass rate in % (right axis)."""
    with matplotlib.rc_context(_rc()):
        fig = _figure()
        ax = fig.add_subplot()
        ax.plot(months, averages, marker="o", color=COLOURS[0], label="平均分")
        for x, y in zip(months, averages, strict=True):
            if y == y:  # not NaN
                ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        _style(ax, title, "月份", "平均分")
        right = ax.twinx()
        right.plot(months, [r * 100 for r in pass_rates], marker="s", linestyle="--", color=COLOURS[2], label="合格率")
        right.set_ylabel("合格率（%）")
        right.set_ylim(0, 105)
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        fig.legend(lines[0] + more[0], lines[1] + more[1], loc="outside lower center", ncols=2)
        return _png(fig)


def grouped_bars(
    groups: Sequence[str], series: dict[str, Sequence[float]], title: str, xlabel: str, ylabel: str
) -> bytes:
    """One bar per series in each group (e.g. a category's rate in each month)."""
    with matplotlib.rc_context(_rc()):
        fig = _figure(8.5, 4.2)
        ax = fig.add_subplot()
        n = max(len(series), 1)
        width = 0.8 / n
        for i, (name, values) in enumerate(series.items()):
            xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
            ax.bar(xs, values, width=width, label=name, color=COLOURS[i % len(COLOURS)])
        ax.set_xticks(range(len(groups)), list(groups))
        ax.legend(fontsize=8, ncols=min(n, 6))
        _style(ax, title, xlabel, ylabel)
        return _png(fig)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    xlabel: str,
    ylabel: str,
    reference: float | None = None,
    reference_label: str = "",
    compare: Sequence[float] | None = None,
    compare_label: str = "",
    value_label: str = "",
) -> bytes:
    """Bars from the top down (first label on top); negative values red. ``compare``: a second, lighter
    bar per label (last month); ``reference``: a vertical line (the month's average)."""
    with matplotlib.rc_context(_rc()):
        fig = _figure(8.0, max(2.6, 0.42 * len(labels) + 1.4))
        ax = fig.add_subplot()
        ys = list(range(len(labels)))[::-1]
        if compare is not None:
            ax.barh([y - 0.2 for y in ys], compare, height=0.4, color="#afb8c1", label=compare_label)
            ax.barh([y + 0.2 for y in ys], values, height=0.4, color=COLOURS[0], label=value_label)
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.barh(ys, values, color=[COLOURS[1] if v < 0 else COLOURS[0] for v in values])
        ax.set_yticks(ys, list(labels))
        if reference is not None:
            ax.axvline(reference, color=COLOURS[3], linestyle="--", label=reference_label)
            ax.legend(fontsize=8, loc="lower right")
        _style(ax, title, xlabel, ylabel)
        ax.grid(axis="x", alpha=0.3)
        return _png(fig)
