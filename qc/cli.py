"""The qc command line: one library call per command. Only this module prints and exits.

Output conventions: results and summaries on stdout; progress, warnings and one line per failed
input (``error: <file>: <reason>``) on stderr. Errors go through the same writer as the progress
bar, so a bar is never broken by an error line and always ends cleanly.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from qc import __version__
from qc.config import cache_dir, default_corpus, default_lexicon_dir
from qc.errors import Failure, LexiconError, QCError
from qc.inspection.check import check_lexicon, corpus_warnings
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.pipeline import Recognition
from qc.schema import CATEGORIES, CallResult
from qc.speech.recordings import DEFAULT_NAME_PATTERN
from qc.speech.transcribe import TranscribeOptions
from qc.speech.whisper import DEFAULT_COMPUTE_TYPE, DEVICES, AsrSettings, resolve_device

log = logging.getLogger("qc")


# --- terminal output -------------------------------------------------------------------------------


class Console:
    """stderr for people: a progress bar on a terminal (plain lines in a log), error lines above it."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.stage = ""
        self.tty = sys.stderr.isatty()
        self.step = 0

    def write(self, line: str) -> None:
        if self.bar is not None:
            from tqdm import tqdm

            tqdm.write(line, file=sys.stderr)
        else:
            click.echo(line, err=True)

    def failure(self, failure: Failure) -> None:
        self.write(f"error: {failure}")

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.step = max(1, total // 10)
            if self.tty and log.isEnabledFor(logging.INFO):
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="call", desc=stage, file=sys.stderr, leave=False)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        elif total >= 20 and (done % self.step == 0 or done == total) and log.isEnabledFor(logging.INFO):
            click.echo(f"{stage}: {done}/{total}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.stage = ""


class _ConsoleHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        self.console.write(prefix + record.getMessage())


CONSOLE = Console()


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    logger = logging.getLogger("qc")
    logger.handlers[:] = [_ConsoleHandler(CONSOLE)]
    logger.setLevel(level)
    logger.propagate = False


def _fail(message: str) -> click.ClickException:
    """One line, exit status 1."""
    return click.ClickException(" ".join(message.split("\n")))


def _load(lexicon_dir: Path | None, profile: str | None = None, checked: bool = False) -> Lexicon:
    """The lexicon with its profile; ``checked``: also every rule's examples must pass (scoring)."""
    from qc.inspection.check import load_checked

    root = lexicon_dir or default_lexicon_dir()
    try:
        if checked:
            return load_checked(root, profile, cache_dir() / "lexicon-checks")
        return load_lexicon(root, profile)
    except LexiconError as err:
        for problem in err.problems:
            CONSOLE.write(f"lexicon: {problem}")
        raise _fail(f"{len(err.problems)} lexicon problem(s); fix them or run `qc lexicon check`") from None


def _store(db_url: str | None) -> Any:
    """The database (a StoreError becomes one line through ``library_errors``)."""
    from qc.store import Store

    return Store(db_url)


def library_errors(fn: Callable[..., None]) -> Callable[..., None]:
    """A QCError anywhere in a command becomes one line on stderr and exit status 1."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except QCError as err:
            raise _fail(str(err)) from None
        finally:
            CONSOLE.close()

    return command


# --- shared options --------------------------------------------------------------------------------

lexicons_option = click.option(
    "--lexicons",
    "lexicon_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Lexicon folder (default: $QC_LEXICONS, else the lexicons bundled with qc).",
)
db_option = click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    help="Database URL (default: $QC_DB, else qc.db in $QC_HOME or the user data folder; postgresql://… works too).",
)
call_category_option = click.option(
    "--call-category",
    default=None,
    metavar="NAME",
    help="Only calls of this call category (查件, 投诉, 计费争议…: lexicons/categories.yaml).",
)
profile_option = click.option(
    "--profile",
    default=None,
    envvar="QC_PROFILE",
    metavar="NAME",
    help="Call-centre profile in lexicons/profiles (courier, generic…; default: settings.yaml's, else courier).",
)
mask_option = click.option(
    "--no-mask", is_flag=True, help="Do not mask customers' phone, ID and card numbers and addresses in the output."
)


def out_option(help_text: str, folder: bool = False) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--out``: a file (reports) or a folder (transcripts)."""
    return click.option(
        "--out",
        "out_dir" if folder else "out_path",
        type=click.Path(file_okay=not folder, dir_okay=folder, path_type=Path),
        required=True,
        help=help_text,
    )


def _month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise click.BadParameter(f"{value!r} is not a month like 2026-11")
    return value


month_option = click.option(
    "--month", required=True, callback=lambda _c, _p, v: _month(v), metavar="YYYY-MM", help="The month (by started_at)."
)


def asr_options(fn: Callable[..., None]) -> Callable[..., None]:
    """Options shared by every command that can recognise speech, gathered into one Recognition."""
    options = [
        click.option(
            "--model",
            "model_dir",
            type=click.Path(file_okay=False),
            default=None,
            help="faster-whisper model folder (default: Whisper base from the installed packages).",
        ),
        click.option(
            "--device",
            type=click.Choice(DEVICES),
            default="auto",
            show_default=True,
            help="Where Whisper runs: a CUDA GPU when one is usable (auto), or cpu / cuda.",
        ),
        click.option(
            "--compute-type",
            default=None,
            help="CTranslate2 compute type (default: int8 on CPU, float16 on a GPU).",
        ),
        click.option("--beam-size", type=click.IntRange(min=1), default=5, show_default=True),
        click.option(
            "--agent-channel",
            type=click.Choice(["left", "right"]),
            default="left",
            show_default=True,
            help="Stereo recordings: the channel the agent is on.",
        ),
        click.option(
            "--name-pattern",
            default=DEFAULT_NAME_PATTERN,
            show_default=True,
            help="How call metadata is read from file names without a manifest.",
        ),
        click.option("--force", is_flag=True, help="Transcribe again even when a cached transcript exists."),
        click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores)."),
        click.option(
            "--ray",
            "ray_address",
            is_flag=False,
            flag_value="local",
            default=None,
            metavar="[ADDRESS]",
            help="Transcribe on Ray (pip install 'qc[ray]'): alone, a local Ray; auto, the cluster this machine "
            "joined (ray start); or HOST:PORT / ray://HOST:PORT. Put it after the paths, or write --ray=ADDRESS.",
        ),
    ]

    @functools.wraps(fn)
    def command(  # type: ignore[no-untyped-def]
        *args,
        model_dir,
        device,
        compute_type,
        beam_size,
        agent_channel,
        name_pattern,
        force,
        jobs,
        ray_address,
        **kwargs,
    ):
        try:
            # on Ray the GPUs are the cluster's, not this machine's: the driver checks them (qc.cluster)
            resolved = "cuda" if device == "cuda" and ray_address is not None else resolve_device(device)
            if ray_address is not None:
                from qc.cluster.connect import check_address, require_ray

                check_address(ray_address)
                require_ray()
        except QCError as err:
            raise _fail(str(err)) from None
        compute_type = compute_type or DEFAULT_COMPUTE_TYPE[resolved]
        asr = AsrSettings(model_dir=model_dir, device=resolved, compute_type=compute_type, beam_size=beam_size)
        options = TranscribeOptions(asr, 0 if agent_channel == "left" else 1, force)
        return fn(*args, recognition=Recognition(options, name_pattern, jobs, ray_address), **kwargs)

    for option in reversed(options):
        command = option(command)
    return command


# --- commands --------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qc")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (debug messages).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """qc — local, explainable quality inspection of call-centre calls (智能语音质检)."""
    _setup_logging(verbose, quiet)


def _summary_line(r: CallResult) -> str:
    flag = " 致命项" if r.veto else ""
    cats: dict[str, int] = {}
    for h in r.hits:
        key = h.category if h.status == "confirmed" else h.status  # suspected hits are not violations yet
        cats[key] = cats.get(key, 0) + 1
    listed = ", ".join(f"{k}×{v}" for k, v in cats.items()) or "no hits"
    return f"{r.call_id}  agent {r.agent_id}  score {r.score:5.1f}{flag}  polite {r.polite_count}  {listed}"


class JsonLines:
    """``--json FILE|-``: one SPEC §2 object per line, to stdout or to a file renamed into place at the end."""

    def __init__(self, target: str | None, mask: bool) -> None:
        from qc.files import AtomicTextFile

        self.mask = mask
        self.file = AtomicTextFile(target) if target not in (None, "-") else None
        self.stdout = target == "-"

    def write(self, result: CallResult) -> None:
        from qc.formats import result_to_dict

        if self.file is None and not self.stdout:
            return
        line = json.dumps(result_to_dict(result, mask=self.mask), ensure_ascii=False) + "\n"
        if self.file is not None:
            self.file.write(line)
        else:
            sys.stdout.write(line)

    def close(self, ok: bool) -> None:
        if self.file is not None:
            self.file.commit() if ok else self.file.discard()


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    metavar="FILE|-",
    help="Also write one JSON result per line (JSON Lines) to FILE, or - for stdout (masked unless --no-mask).",
)
@mask_option
@asr_options
@lexicons_option
@profile_option
@library_errors
def score(
    paths: tuple[str, ...],
    db_url: str | None,
    json_path: str | None,
    no_mask: bool,
    recognition: Recognition,
    lexicon_dir: Path | None,
    profile: str | None,
) -> None:
    """Score transcripts and recordings (files, folders, a manifest .csv); store every result.

    Recordings are transcribed first (cached, see `qc transcribe`). Each call's previous result
    is replaced. A bad input is reported on stderr with the reason; the others are still scored
    and stored, and the exit status is 1.

    \b
    Example:
        qc score samples/calls --json -
        qc score recordings/ manifest.csv --db postgresql://qc@dbhost/qc
    """
    from qc.pipeline import score_inputs

    lexicon = _load(lexicon_dir, profile, checked=True)
    store = _store(db_url)
    json_out = JsonLines(json_path, mask=not no_mask)
    to_stdout = json_path == "-"

    def on_result(result: CallResult) -> None:
        json_out.write(result)
        if not to_stdout:
            click.echo(_summary_line(result))

    completed = False
    try:
        summary = score_inputs(paths, lexicon, store, recognition, on_result, CONSOLE.failure, CONSOLE.progress)
        completed = True
    finally:
        CONSOLE.close()
        json_out.close(ok=completed)
        store.close()
    failed = len(summary.failures)
    log.info(
        "scored %d call(s), %d failed; ruleset %s; stored in %s", summary.done, failed, lexicon.version, store.display()
    )
    if failed or not summary.done:
        sys.exit(1)


@cli.command()
@click.option("--month", default=None, callback=lambda _c, _p, v: v and _month(v), metavar="YYYY-MM")
@click.option("--agent", default=None, help="Only this agent (工号).")
@click.option("--force", is_flag=True, help="Also calls scored under the current ruleset already.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core).")
@click.option("--by", "by", default="qc", show_default=True, metavar="USER", help="Named in the score versions.")
@db_option
@lexicons_option
@profile_option
@library_errors
def rescore(
    month: str | None,
    agent: str | None,
    force: bool,
    jobs: int | None,
    by: str,
    db_url: str | None,
    lexicon_dir: Path | None,
    profile: str | None,
) -> None:
    """Score the stored calls again with the current lexicons; keep every verdict, missed finding and appeal.

    Reads transcripts from the database (no files needed) and writes only the calls whose result
    changed, each with a score version (cause: rule change). Calls of a locked month are left as
    they are. A verdict whose hit no longer exists is kept in the history and reported.

    \b
    Example:
        qc rescore --month 2026-11
    """
    from qc.review.rescore import rescore as rescore_calls

    lexicon = _load(lexicon_dir, profile, checked=True)
    store = _store(db_url)
    try:

        def progress(seen: int, total: int) -> None:
            CONSOLE.progress("rescoring", seen, total)

        done = rescore_calls(store, lexicon, month, agent, jobs, force, by, progress)
    finally:
        CONSOLE.close()
        store.close()
    for line in done.stale:
        log.warning("%s", line)
    for failure in done.failures:
        CONSOLE.failure(failure)
    click.echo(
        f"{done.seen} call(s): {done.scored} scored again, {done.changed} changed, {done.untouched} out of the "
        f"edit's reach, {done.current} already under ruleset {lexicon.version}, {done.locked} in locked months; "
        f"{len(done.stale)} verdict(s) without their hit"
    )
    if done.failures:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@out_option("Folder for the transcripts (one <call_id>.json per call).", folder=True)
@asr_options
@lexicons_option
@profile_option
@library_errors
def transcribe(
    paths: tuple[str, ...], out_dir: Path, recognition: Recognition, lexicon_dir: Path | None, profile: str | None
) -> None:
    """Transcribe recordings (files, folders or a manifest .csv) into SPEC transcripts in --out.

    Each recording is transcribed once: results are cached by audio content, model and settings,
    so an interrupted batch continues where it stopped (--force redoes).

    \b
    Example:
        qc transcribe recordings/ --out transcripts/
        qc transcribe manifest.csv --out transcripts/ --agent-channel right
    """
    from qc.pipeline import transcribe_inputs

    lexicon = _load(lexicon_dir, profile)
    summary = transcribe_inputs(paths, out_dir, lexicon, recognition, None, CONSOLE.failure, CONSOLE.progress)
    CONSOLE.close()
    log.info("wrote %d transcript(s) to %s, %d failed", summary.done, out_dir, len(summary.failures))
    if summary.failures or not summary.done:
        sys.exit(1)


@cli.group()
def report() -> None:
    """Reports for inspectors and managers."""


@report.command("monthly")
@month_option
@out_option("FILE.xlsx (summary, charts, agents, 规则准确率, 跨月调整) or FILE.csv (+ FILE_明细.csv and others).")
@click.option("--agent", default=None, help="Only this agent (工号).")
@call_category_option
@db_option
@mask_option
@lexicons_option
@library_errors
def report_monthly(
    month: str,
    out_path: Path,
    agent: str | None,
    call_category: str | None,
    db_url: str | None,
    no_mask: bool,
    lexicon_dir: Path | None,
) -> None:
    """The monthly quality sheets (服务质量综合考评表) from the stored results.

    \b
    Example:
        qc report monthly --month 2026-11 --out 2026-11.xlsx
        qc report monthly --month 2026-11 --call-category 投诉 --out 2026-11-投诉.xlsx
    """
    from qc.pipeline import monthly_report

    lexicon = _load(lexicon_dir)
    pass_mark = lexicon.scorecard.pass_mark
    names = {r.info.id: r.info.name for r in lexicon.rules}  # judged rules with no hit left this month
    written = monthly_report(
        _store(db_url), month, out_path, pass_mark, agent, mask=not no_mask, call_category=call_category,
        rule_names=names, lexicon=lexicon,
    )  # fmt: skip
    also = f" and {written.also}" if written.also else ""
    log.info("%s: %d call(s), %d agent(s) → %s%s", month, written.rows, written.agents, written.path, also)


@report.command("weekly")
@click.option("--week", required=True, metavar="YYYY-Www", help="The ISO week (Monday to Sunday, by started_at).")
@out_option("FILE.xlsx (小结, 班组, 违规排行, 培训计划, 示例) or FILE.html (with the examples' clips).")
@click.option(
    "--team-threshold",
    default="3",
    show_default=True,
    metavar="N|P%",
    help="A rule broken by at least N agents (or P% of the week's agents) gets a whole-team session; "
    "below that, one-to-one coaching.",
)
@click.option("--examples", "examples_each", type=click.IntRange(0, 10), default=2, show_default=True,
              help="Examples per training item.")  # fmt: skip
@db_option
@mask_option
@library_errors
def report_weekly(
    week: str, out_path: Path, team_threshold: str, examples_each: int, db_url: str | None, no_mask: bool
) -> None:
    """The week's 小结 (calls, scores, rules broken and by whom) and training plan (全员培训 / 一对一辅导).

    \b
    Example:
        qc report weekly --week 2026-W47 --out 2026-W47.xlsx
        qc report weekly --week 2026-W47 --team-threshold 20% --out 2026-W47.html
    """
    from qc.reports.paperwork import check_out, weekly_report

    check_out("weekly", out_path)
    done = weekly_report(_store(db_url), week, out_path, team_threshold, mask=not no_mask, examples_each=examples_each)
    log.info(
        "%s: %d call(s), %d agent(s), %d whole-team session(s), %d one-to-one → %s",
        week, done.calls, done.agents, done.team_sessions, done.coaching, done.path,
    )  # fmt: skip


@report.command("analysis")
@month_option
@out_option("FILE.html: one self-contained page (print it to PDF from the browser).")
@click.option("--months", "history", type=click.IntRange(2, 24), default=6, show_default=True,
              help="Months shown in the trends, this one included.")  # fmt: skip
@click.option("--min-calls", type=click.IntRange(min=1), default=5, show_default=True,
              help="Calls an agent needs in both months to count as improving or slipping.")  # fmt: skip
@click.option("--step", type=click.FloatRange(min=0), default=3.0, show_default=True,
              help="Points of average score that count as improving or slipping.")  # fmt: skip
@db_option
@lexicons_option
@library_errors
def report_analysis(
    month: str, out_path: Path, history: int, min_calls: int, step: float, db_url: str | None, lexicon_dir: Path | None
) -> None:
    """The monthly 质检分析报告: scores and trend, violations, agents improving and slipping, call
    categories, review coverage and rule precision, recognition quality.

    \b
    Example:
        qc report analysis --month 2026-11 --out 2026-11-分析.html
    """
    from qc.reports.paperwork import analysis_report, check_out

    check_out("analysis", out_path)
    pass_mark = _load(lexicon_dir).scorecard.pass_mark
    done = analysis_report(_store(db_url), month, out_path, pass_mark, history, min_calls, step)
    log.info("%s: %d call(s), %d agent(s) → %s", month, done.calls, done.agents, done.path)


@cli.command()
@click.option("--category", type=click.Choice(list(CATEGORIES)), default=None, help="Only this hit category.")
@click.option("--rule", default=None, help="Only this rule id (e.g. BAN-002).")
@click.option("--agent", default=None, help="Only this agent (工号).")
@click.option("--month", default=None, callback=lambda _c, _p, v: v and _month(v), metavar="YYYY-MM")
@click.option("--week", default=None, metavar="YYYY-Www", help="Only calls of this ISO week (e.g. 2026-W45).")
@click.option("--item", default=None, metavar="考评项", help="Only hits counted against this 考评项 (e.g. 服务态度).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@out_option("FILE.html (with audio clips), .xlsx, .csv or .jsonl")
@db_option
@mask_option
@call_category_option
@lexicons_option
@library_errors
def examples(
    category: str | None,
    rule: str | None,
    agent: str | None,
    month: str | None,
    week: str | None,
    item: str | None,
    limit: int,
    out_path: Path,
    db_url: str | None,
    no_mask: bool,
    call_category: str | None,
    lexicon_dir: Path | None,
) -> None:
    """Violation examples for trainers: the hit, the turns around it, the rewrite, a clip.

    \b
    Example:
        qc examples --category banned --month 2026-11 --out banned.html
        qc examples --call-category 投诉 --month 2026-11 --out complaints.html
        qc examples --week 2026-W45 --item 服务态度 --out week45.xlsx
    """
    from qc.pipeline import examples_report

    written = examples_report(
        _store(db_url), out_path, category, rule, agent, month, limit, mask=not no_mask, call_category=call_category,
        week=week, item=item, lexicon=_load(lexicon_dir),
    )  # fmt: skip
    if written.matched:
        log.info("showing %d of %s example(s) (--limit) → %s", written.rows, f"{written.matched:,}", written.path)
    else:
        log.info("%d example(s) → %s", written.rows, written.path)


@cli.command()
@month_option
@click.option("--per-agent", type=click.IntRange(min=1), default=5, show_default=True, help="Calls per agent.")
@click.option(
    "--random-share",
    type=click.FloatRange(0, 1),
    default=0.4,
    show_default=True,
    help="Share of each agent's list drawn at random after the calls picked for a reason.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same list.")
@out_option("FILE.csv or FILE.xlsx")
@click.option("--agent", default=None, help="Only this agent (工号).")
@click.option(
    "--low-below",
    type=float,
    default=60.0,
    show_default=True,
    help="Scores under this are 低分 and come before complaint calls (the scorecard's pass mark).",
)
@click.option("--include-reviewed", is_flag=True, help="Also offer calls whose hits all have verdicts already.")
@click.option("--assign", "assign_to", default=None, metavar="USER,USER…", help="Deal the list to these inspectors.")
@click.option("--assign-all", is_flag=True, help="Deal the list to every user with role inspector.")
@click.option("--by", "by", default=None, metavar="USER", help="Who assigns (a qa_lead or admin); needed to assign.")
@click.option("--reassign", is_flag=True, help="Deal calls that are assigned already again (default: they stay).")
@db_option
@library_errors
def sample(
    month: str,
    per_agent: int,
    random_share: float,
    seed: int,
    out_path: Path,
    agent: str | None,
    low_below: float,
    include_reviewed: bool,
    assign_to: str | None,
    assign_all: bool,
    by: str | None,
    reassign: bool,
    db_url: str | None,
) -> None:
    """The review queue: calls with suspected hits, vetoes, unsure roles, low scores and complaint
    calls first, then a random share — per agent; optionally dealt round-robin to inspectors.

    \b
    Example:
        qc sample --month 2026-11 --per-agent 5 --out listen-2026-11.xlsx
        qc sample --month 2026-11 --assign wang,zhang --by li --out listen-2026-11.xlsx
    """
    from qc.pipeline import sample_report

    if assign_to is not None and assign_all:
        raise click.UsageError("--assign and --assign-all do not go together")
    names = [n.strip() for n in assign_to.split(",") if n.strip()] if assign_to is not None else None
    if names is not None and not names:
        raise click.UsageError("--assign needs at least one inspector name")
    assigning = names is not None or assign_all
    if (by is not None or reassign) and not assigning:
        raise click.UsageError("--by and --reassign go with --assign or --assign-all")
    if assigning and by is None:
        raise click.UsageError("assigning needs --by USER (a qa_lead or admin)")
    written = sample_report(
        _store(db_url), month, out_path, per_agent, random_share, seed, agent,
        assign_to=names, assign_all=assign_all, by=by, reassign=reassign, include_reviewed=include_reviewed,
        low_below=low_below,
    )  # fmt: skip
    log.info("%d call(s) to listen to → %s", written.rows, written.path)


@cli.group()
def lexicon() -> None:
    """Inspect and validate the lexicons (rules as data)."""


# --- review (issue 11) ----------------------------------------------------------------------------


def _desk(db_url: str | None, lexicon_dir: Path | None, profile: str | None = None) -> Any:
    from qc.review.desk import ReviewDesk

    return ReviewDesk(_store(db_url), _load(lexicon_dir, profile))


by_option = click.option("--by", "by", required=True, metavar="USER", help="Who does it (a user of `qc user add`).")


@cli.group()
def user() -> None:
    """Users of the review workflow and the console, with their roles."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "qa_lead", "inspector", "team_lead", "agent"]), required=True)
@click.option("--agent-id", default=None, help="For an agent: the 工号 whose calls are theirs.")
@click.option("--team", default=None, help="The team (班组) the user belongs to or leads.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (else a prompt).")
@db_option
@library_errors
def user_add(
    name: str, role: str, agent_id: str | None, team: str | None, password_stdin: bool, db_url: str | None
) -> None:
    """Add a user; the password is stored as an argon2 hash.

    \b
    Example:
        echo 's3cret-pass' | qc user add wangfang --role inspector --password-stdin
        qc user add 1024 --role agent --agent-id 1024
    """
    from qc.review.desk import ReviewDesk

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    ReviewDesk(_store(db_url)).add_user(name, role, password, agent_id, team)
    click.echo(f"user {name} ({role}) added")


@cli.group()
def review() -> None:
    """Judge the machine's hits and add what it missed; the call's score follows."""


@review.command("hit")
@click.argument("call_id")
@click.argument("hit_id")
@click.option("--verdict", type=click.Choice(["true", "false"]), required=True, help="true: 真命中; false: 误命中.")
@click.option("--reason", type=click.Choice(["asr", "rule", "context", "other"]), default=None, help="Why (for false).")
@click.option("--comment", default=None)
@click.option("--replace", is_flag=True, help="Change a verdict already given (QA lead or admin).")
@by_option
@db_option
@lexicons_option
@profile_option
@library_errors
def review_hit(
    call_id: str,
    hit_id: str,
    verdict: str,
    reason: str | None,
    comment: str | None,
    replace: bool,
    by: str,
    db_url: str | None,
    lexicon_dir: Path | None,
    profile: str | None,
) -> None:
    """A verdict on one hit (HIT_ID as in `qc show`); the call is re-priced and a score version written.

    \b
    Example:
        qc review hit 20261103-0915-1024-0001 'NS-011@4:0-2' --verdict false --reason context --by wangfang
    """
    old, new = _desk(db_url, lexicon_dir, profile).judge_hit(
        call_id, hit_id, verdict == "true", by, reason, comment, replace
    )
    click.echo(f"{call_id} {hit_id}: {verdict}; score {old:g} → {new:g}")


@review.command("add")
@click.argument("call_id")
@click.option("--rule", "rule_id", default=None, help="The rule the agent broke (e.g. NS-007).")
@click.option("--item", default=None, help="Or: a 考评项 scored by hand (e.g. 服务态度; needs --points).")
@click.option("--utterance", type=click.IntRange(min=0), default=None, help="Which utterance (0-based).")
@click.option("--points", type=click.FloatRange(min=0), default=None, help="Points to deduct (default: the rule's).")
@click.option("--comment", required=True)
@by_option
@db_option
@lexicons_option
@profile_option
@library_errors
def review_add(
    call_id: str,
    rule_id: str | None,
    item: str | None,
    utterance: int | None,
    points: float | None,
    comment: str,
    by: str,
    db_url: str | None,
    lexicon_dir: Path | None,
    profile: str | None,
) -> None:
    """A violation the machine missed (漏检); the call is re-priced.

    \b
    Example:
        qc review add 20261103-0915-1024-0001 --rule NS-007 --utterance 5 --comment "推诿，识别漏了" --by wangfang
        qc review add 20261103-0915-1024-0001 --item 语气语调 --points 3 --comment "语气生硬" --by wangfang
    """
    desk = _desk(db_url, lexicon_dir, profile)
    old, new = desk.add_finding(call_id, rule_id, by, comment, utterance, points, item)
    click.echo(f"{call_id}: {rule_id or item} added; score {old:g} → {new:g}")


@review.command("export-cases")
@click.option("--month", default=None, callback=lambda _c, _p, v: v and _month(v), metavar="YYYY-MM")
@click.option("--rule", "rule_id", default=None, help="Only this rule's false hits.")
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    type=click.Choice(["asr", "rule", "context", "other"]),
    help="Only false hits judged for these reasons (default: rule, context, other — not asr).",
)
@out_option("FILE.yaml (put it in lexicons/cases/)")
@db_option
@library_errors
def review_export_cases(
    month: str | None, rule_id: str | None, reasons: tuple[str, ...], out_path: Path, db_url: str | None
) -> None:
    """Every hit judged false, as a must-not-hit case for `qc lexicon check` (the utterance it quoted).

    \b
    Example:
        qc review export-cases --month 2026-11 --out lexicons/cases/2026-11.yaml
        qc lexicon check        # names each case its rule still hits, until the rule is fixed
    """
    from qc.review.cases import DEFAULT_REASONS, false_hit_cases, write_cases

    cases = false_hit_cases(_store(db_url), month, rule_id, reasons or DEFAULT_REASONS)
    write_cases(cases, out_path)
    click.echo(f"{len(cases)} case(s) → {out_path}")


@cli.group()
def appeal() -> None:
    """Agents' appeals (申诉): open one on a hit or a call; the team lead forwards or rejects, the QA lead decides."""


@appeal.command("open")
@click.argument("call_id")
@click.option("--hit", "hit_id", default=None, help="The hit appealed (as in `qc show`); without it, the whole call.")
@click.option("--reason", required=True, help="Why the evaluation is wrong.")
@click.option("--points", type=float, default=None, help="Points asked back (a call appeal).")
@by_option
@db_option
@library_errors
def appeal_open(
    call_id: str, hit_id: str | None, reason: str, points: float | None, by: str, db_url: str | None
) -> None:
    """Open an appeal (the call's agent, their team lead, or a QA lead), within QC_APPEAL_DAYS (7) of scoring.

    \b
    Example:
        qc appeal open 20261103-0915-1024-0001 --hit 'NS-011@4:0-2' --reason "客户先挂断，不是我推诿" --by agent1024
    """
    from qc.review.desk import ReviewDesk

    appeal_id = ReviewDesk(_store(db_url)).open_appeal(call_id, by, reason, hit_id, points)
    click.echo(f"appeal #{appeal_id} opened on {call_id}{' ' + hit_id if hit_id else ''}")


@appeal.command("decide")
@click.argument("appeal_id", type=int)
@click.option("--forward", "decision", flag_value="forward", help="Team lead: pass it to the QA lead.")
@click.option("--accept", "decision", flag_value="accept", help="The agent is right (a hit: a false hit).")
@click.option("--partial", "decision", flag_value="partial", help="Partly right: give --points back.")
@click.option("--reject", "decision", flag_value="reject", help="The evaluation stands.")
@click.option("--points", type=float, default=None, help="Points given back (partial, or a call appeal).")
@click.option("--comment", required=True, help="The grounds of the decision.")
@by_option
@db_option
@lexicons_option
@profile_option
@library_errors
def appeal_decide(
    appeal_id: int,
    decision: str | None,
    points: float | None,
    comment: str,
    by: str,
    db_url: str | None,
    lexicon_dir: Path | None,
    profile: str | None,
) -> None:
    """Decide an appeal; the call is re-priced (in a locked month: an adjustment in the next open month).

    \b
    Example:
        qc appeal decide 3 --accept --comment "录音核实，客户先挂断" --by qalead
    """
    if decision is None:
        raise click.UsageError("give one of --forward, --accept, --partial, --reject")
    done = _desk(db_url, lexicon_dir, profile).decide_appeal(appeal_id, by, decision, comment, points)
    said = f"appeal #{appeal_id}: {done['state']}" + (" (with the QA lead)" if done["level"] == 2 else "")
    if "score" in done:
        said += f"; score {done['score'][0]:g} → {done['score'][1]:g}"
    if "adjustment" in done:
        adj = done["adjustment"]
        said += f"; month locked: {adj['points']:+g} as an adjustment in {adj['month']}"
    click.echo(said)


@appeal.command("withdraw")
@click.argument("appeal_id", type=int)
@by_option
@db_option
@library_errors
def appeal_withdraw(appeal_id: int, by: str, db_url: str | None) -> None:
    """Take an open appeal back (who opened it).

    \b
    Example:
        qc appeal withdraw 3 --by agent1024
    """
    from qc.review.desk import ReviewDesk

    ReviewDesk(_store(db_url)).withdraw_appeal(appeal_id, by)
    click.echo(f"appeal #{appeal_id}: withdrawn")


@appeal.command("list")
@click.option("--month", default=None, callback=lambda _c, _p, v: v and _month(v), metavar="YYYY-MM")
@click.option("--agent", default=None, help="Only this agent (工号).")
@click.option(
    "--state", type=click.Choice(["submitted", "accepted", "partial", "rejected", "withdrawn", "expired"]), default=None
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per appeal.")
@db_option
@library_errors
def appeal_list(month: str | None, agent: str | None, state: str | None, as_json: bool, db_url: str | None) -> None:
    """Appeals, oldest first (an open one past its deadline shows as expired).

    \b
    Example:
        qc appeal list --month 2026-11 --state submitted
    """
    import json

    from qc.review.desk import ReviewDesk

    rows = ReviewDesk(_store(db_url)).list_appeals(agent_id=agent, month=month, state=state)
    for a in rows:
        if as_json:
            click.echo(json.dumps(a, ensure_ascii=False))
            continue
        level = "QA lead" if a["level"] == 2 else "team lead"
        click.echo(
            f"#{a['id']}  {a['call_id']} {a['hit_id'] or '(call)'}  {a['state']} ({level})  by {a['opened_by']} "
            f"{a['opened_at']}  due {a['deadline']}  {a['reason']}"
        )
    if not rows and not as_json:
        click.echo("no appeals")


@cli.command()
@click.argument("call_id")
@click.option("--json", "as_json", is_flag=True, help="The SPEC §2 object with its review state, as JSON.")
@db_option
@mask_option
@library_errors
def show(call_id: str, as_json: bool, db_url: str | None, no_mask: bool) -> None:
    """The call's current result (final score) with verdicts, missed findings and score versions.

    \b
    Example:
        qc show 20261103-0915-1024-0001 --json
    """
    import json

    from qc.review.desk import ReviewDesk
    from qc.text.mask import mask_text

    shown = ReviewDesk(_store(db_url)).show(call_id)
    if not no_mask:
        for h in shown["hits"]:
            h["text"], h["context"] = mask_text(h["text"] or ""), mask_text(h["context"] or "")
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False))
        return
    click.echo(
        f"{shown['call_id']}  agent {shown['agent_id']}  score {shown['score']:g}{'  VETO' if shown['veto'] else ''}"
    )
    judged = shown["review"]["verdicts"]
    for h in shown["hits"]:
        v = judged.get(h["hit_id"])
        mark = "" if v is None else f"  [{'真命中' if v['verdict'] else '误命中'} by {v['by']}]"
        click.echo(f"  {h['hit_id']}  {h['status']}  -{h['deduction']:g}  {h['name']}  {h['text']}{mark}")
    for m in shown["review"]["manual"]:
        click.echo(f"  漏检 {m['rule_id']} utterance {m['utterance']}  {m['comment']}  by {m['by']}")
    for v in shown["review"]["versions"]:
        click.echo(f"  version {v['n']}: {v['score']:g} ({v['cause']}{', ' + v['by'] if v['by'] else ''}, {v['at']})")


@cli.group()
def rules() -> None:
    """What reviewers' verdicts say about the rules."""


@rules.command("precision")
@click.option("--month", default=None, callback=lambda _c, _p, v: v and _month(v), metavar="YYYY-MM")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per rule instead of a table.")
@db_option
@library_errors
def rules_precision(month: str | None, as_json: bool, db_url: str | None) -> None:
    """Per rule: hits reviewed, judged true, judged false, precision with a 95 % Wilson interval, and
    why the false ones were false — lowest precision first.

    \b
    Example:
        qc rules precision --month 2026-11
    """
    import json
    from dataclasses import asdict

    from qc.review.precision import rule_precision

    with _store(db_url).engine.connect() as conn:
        rows = rule_precision(conn, month)
    if as_json:
        for r in rows:
            click.echo(json.dumps(asdict(r), ensure_ascii=False))
        return
    if not rows:
        click.echo("no verdicts yet" + (f" for {month}" if month else ""))
        return
    click.echo(f"{'rule':<12}{'reviewed':>9}{'true':>6}{'false':>6}  precision (95 % interval)  false because")
    for r in rows:
        why = ", ".join(f"{k} {v}" for k, v in sorted(r.reasons.items(), key=lambda kv: -kv[1]))
        click.echo(
            f"{r.rule_id:<12}{r.reviewed:>9}{r.confirmed:>6}{r.false:>6}  {r.precision:6.1%} ({r.low:.2f}–{r.high:.2f})"
            f"       {why}"
        )


@cli.group()
def month() -> None:
    """Month-end: lock a month's results."""


@month.command("lock")
@click.argument("month_name", metavar="YYYY-MM", callback=lambda _c, _p, v: _month(v))
@by_option
@db_option
@library_errors
def month_lock(month_name: str, by: str, db_url: str | None) -> None:
    """Freeze a month: no verdict, missed finding or appeal changes its results any more (QA lead, admin).

    \b
    Example:
        qc month lock 2026-11 --by qa-lead
    """
    from qc.review.desk import ReviewDesk

    ReviewDesk(_store(db_url)).lock_month(month_name, by)
    click.echo(f"{month_name} locked")


@lexicon.command("diff")
@click.option("--month", required=True, callback=lambda _c, _p, v: _month(v), metavar="YYYY-MM")
@out_option("FILE.xlsx or FILE.csv")
@click.option("--agent", default=None, help="Only this agent (工号).")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per core).")
@db_option
@lexicons_option
@profile_option
@library_errors
def lexicon_diff(
    month: str,
    out_path: Path,
    agent: str | None,
    jobs: int | None,
    db_url: str | None,
    lexicon_dir: Path | None,
    profile: str | None,
) -> None:
    """What the current (edited) lexicons would change on a month's stored calls — nothing is written.

    Hits gained and lost per rule with examples, and each agent's average before and after (with
    the verdicts, missed findings and appeals applied, as `qc rescore` would store it).

    \b
    Example:
        qc lexicon diff --month 2026-11 --lexicons ./lexicons-edited --out diff-2026-11.xlsx
    """
    from qc.review.lexicon_diff import check_diff_path, write_diff
    from qc.review.lexicon_diff import lexicon_diff as replay_edit

    check_diff_path(out_path)  # a wrong suffix is said now, not after minutes of replaying
    lexicon = _load(lexicon_dir, profile)
    store = _store(db_url)
    try:
        diff = replay_edit(store, lexicon, month, agent, jobs)
    finally:
        store.close()
    for failure in diff.failures:
        CONSOLE.failure(failure)
    written = write_diff(diff, out_path)
    rules = diff.rules_frame()
    click.echo(
        f"{diff.calls} call(s) of {month} replayed with ruleset {lexicon.version}: {int(rules['gained'].sum())} hit(s) "
        f"gained, {int(rules['lost'].sum())} lost, in {len(rules)} rule(s) → {written}"
    )
    if diff.failures:
        sys.exit(1)


@lexicon.command("check")
@lexicons_option
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Labelled sentences to run every rule over (default: corpus/dev.jsonl of a source checkout).",
)
@click.option("--strict", is_flag=True, help="A rule that hits a look-alike of the corpus is an error, not a warning.")
@profile_option
def lexicon_check(lexicon_dir: Path | None, corpus: Path | None, strict: bool, profile: str | None) -> None:
    """Validate every lexicon file, run every rule's own examples, and run every rule over the
    labelled corpus naming each rule that hits a look-alike.

    Each problem is printed with file, line and rule id; exit status 1 if there is any.

    \b
    Example:
        qc lexicon check --lexicons lexicons
    """
    root = lexicon_dir or default_lexicon_dir()
    lex, problems = check_lexicon(root, profile)
    for problem in problems:
        CONSOLE.write(str(problem))
    if problems or lex is None:
        raise _fail(f"{len(problems)} problem(s) in {root}")
    corpus = corpus or default_corpus()
    warnings = corpus_warnings(lex, corpus) if corpus is not None and corpus.is_file() else []
    for warning in warnings:
        CONSOLE.write(f"{'error' if strict else 'warning'}: {warning}")
    if warnings and strict:
        raise _fail(f"{len(warnings)} look-alike(s) of {corpus} hit by rules")
    examples = sum(len(r.examples_hit) + len(r.examples_miss) for r in lex.rules)
    checked = f"; {len(warnings)} look-alike(s) of {corpus.name} hit" if corpus is not None and corpus.is_file() else ""
    cats = lex.categories.rules if lex.categories is not None else ()
    cat_examples = sum(len(c.examples_hit) + len(c.examples_miss) for c in cats)
    kinds = f"; {len(cats)} call-category rules, {cat_examples} examples pass"
    click.echo(
        f"OK: {len(lex.rules)} rules, {examples} examples pass{checked}{kinds if cats else ''}; "
        f"profile {lex.settings.profile}; ruleset {lex.version} ({root})"
    )


# --- the console (issue 12) -----------------------------------------------------------------------


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--secure-cookies", is_flag=True, help="Send the session cookie over HTTPS only (behind a TLS proxy).")
@lexicons_option
@profile_option
@library_errors
def serve(
    db_url: str | None, host: str, port: int, secure_cookies: bool, lexicon_dir: Path | None, profile: str | None
) -> None:
    """The inspectors' web console: queue, calls with player and transcript, verdicts, appeals, reports.

    Sign in with a user of `qc user add`. Listens on 127.0.0.1 unless --host says otherwise; the
    session key is $QC_SECRET, else one kept in $QC_HOME/console-secret.

    \b
    Example:
        qc serve --port 8000
        qc serve --db postgresql://qc@db/qc --host 0.0.0.0 --secure-cookies
    """
    import uvicorn

    from qc.console.app import create_app
    from qc.console.secret import session_secret

    app = create_app(
        _store(db_url), _load(lexicon_dir, profile), session_secret(), lexicon_dir=lexicon_dir, profile=profile,
        secure_cookies=secure_cookies,
    )  # fmt: skip
    if host not in ("127.0.0.1", "localhost", "::1") and not secure_cookies:
        log.warning("listening on %s without --secure-cookies: put the console behind HTTPS", host)
    log.info("qc console on http://%s:%d/ (Ctrl-C stops it)", host if ":" not in host else f"[{host}]", port)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)


def main() -> None:
    cli(prog_name="qc")
