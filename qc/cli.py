"""The qc command line: a thin layer over the library. Only this module prints and exits."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import click

from qc import __version__
from qc.speech.whisper import AsrSettings
from qc.speech.audio import AUDIO_SUFFIXES
from qc.pipeline import Failure, Outcome, run_batch
from qc.config import default_lexicon_dir
from qc.errors import InputError, LexiconError, QCError
from qc.inspection.check import check_lexicon
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.speech.recordings import DEFAULT_NAME_PATTERN
from qc.schema import CATEGORIES, CallResult, Transcript
from qc.store import Store
from qc.speech.transcribe import TranscribeOptions, resolve_recordings, transcribe_many, write_transcript
from qc.formats import iter_inputs, result_to_dict

MANIFEST_SUFFIX = ".csv"

lexicons_option = click.option(
    "--lexicons",
    "lexicon_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Lexicon folder (default: $QC_LEXICONS, ./lexicons, or the bundled one).",
)
db_option = click.option(
    "--db",
    "db_url",
    default=None,
    metavar="URL",
    help="Database URL (default: $QC_DB or sqlite:///qc.db; postgresql://… works too).",
)


def _load(lexicon_dir: Path | None) -> Lexicon:
    try:
        return load_lexicon(lexicon_dir or default_lexicon_dir())
    except LexiconError as err:
        for problem in err.problems:
            click.echo(f"lexicon: {problem}", err=True)
        raise click.ClickException(
            f"{len(err.problems)} lexicon problem(s); fix them or run `qc lexicon check`"
        ) from None


class _Progress:
    """A bar on a terminal, plain lines in a log."""

    def __init__(self, total: int, label: str, minimum: int = 50) -> None:
        self.total = total
        self.done = 0
        self.label = label
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="call", desc=label, file=sys.stderr, leave=False)
        self.step = max(1, total // 10)
        self.minimum = minimum

    def __call__(self, _outcome: Outcome) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.total >= self.minimum and (self.done % self.step == 0 or self.done == self.total):
            click.echo(f"{self.label}: {self.done}/{self.total}", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _summary_line(r: CallResult) -> str:
    flag = " 致命项" if r.veto else ""
    cats: dict[str, int] = {}
    for h in r.hits:
        cats[h.category] = cats.get(h.category, 0) + 1
    listed = ", ".join(f"{k}×{v}" for k, v in cats.items()) or "no hits"
    return f"{r.call_id}  agent {r.agent_id}  score {r.score:5.1f}{flag}  polite {r.polite_count}  {listed}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qc")
def cli() -> None:
    """qc — local, explainable quality inspection of call-centre calls (智能语音质检)."""


def asr_options(fn):  # type: ignore[no-untyped-def]
    """Options shared by every command that can recognise speech."""
    options = [
        click.option(
            "--model",
            "model_dir",
            type=click.Path(file_okay=False),
            default=None,
            help="faster-whisper model folder (default: Whisper base from the installed packages).",
        ),
        click.option("--compute-type", default="int8", show_default=True, help="CTranslate2 compute type."),
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
    ]

    @functools.wraps(fn)
    def command(*args, model_dir, compute_type, beam_size, agent_channel, name_pattern, force, jobs, **kwargs):  # type: ignore[no-untyped-def]
        recognition = Recognition(
            TranscribeOptions(
                AsrSettings(model_dir=model_dir, compute_type=compute_type, beam_size=beam_size),
                0 if agent_channel == "left" else 1,
                force,
                jobs or os.cpu_count() or 1,
            ),
            name_pattern,
            jobs,
        )
        return fn(*args, recognition=recognition, **kwargs)

    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class Recognition:
    """What the recognition options of a command asked for."""

    options: TranscribeOptions
    name_pattern: str
    jobs: int | None


def _recognise(
    paths: list[str],
    options: TranscribeOptions,
    name_pattern: str,
    lexicon_root: str,
    on_failure: Callable[[str], None],
) -> Iterator[Transcript]:
    """Transcribe recordings with a progress display; failures are reported and skipped."""
    entries = resolve_recordings(paths, name_pattern)
    metas = []
    for entry in entries:
        if isinstance(entry, InputError):
            on_failure(str(entry))
        else:
            metas.append(entry)
    progress = _Progress(len(metas), "transcribing", minimum=1)
    try:
        for outcome in transcribe_many(metas, options, lexicon_root):
            progress(outcome)
            if isinstance(outcome, InputError):
                on_failure(str(outcome))
            elif outcome.asr and outcome.asr.get("silent"):
                on_failure(f"{outcome.source}: no speech found (silent recording); empty transcript flagged")
                yield outcome
            else:
                yield outcome
    finally:
        progress.close()


def _split_inputs(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Transcript files, and recordings/manifests to transcribe first."""
    transcripts: list[Path] = []
    recordings: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            transcripts.extend(iter_inputs([raw]))
            if any(q.suffix.lower() in AUDIO_SUFFIXES for q in p.rglob("*")):
                recordings.append(raw)
        elif p.suffix.lower() in AUDIO_SUFFIXES or p.suffix.lower() == MANIFEST_SUFFIX:
            recordings.append(raw)
        else:
            transcripts.append(p)
    return transcripts, recordings


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    metavar="FILE|-",
    help="Also write one JSON result per line (JSON Lines) to FILE, or - for stdout.",
)
@asr_options
@lexicons_option
def score(
    paths: tuple[str, ...],
    db_url: str | None,
    json_path: str | None,
    recognition: Recognition,
    lexicon_dir: Path | None,
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
    lexicon = _load(lexicon_dir)
    try:
        store = Store(db_url)
    except QCError as err:
        raise click.ClickException(str(err)) from None
    files, recordings = _split_inputs(list(paths))
    quiet = json_path == "-"
    json_out: IO[str] | None = None
    if json_path is not None:
        try:
            json_out = sys.stdout if quiet else open(json_path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise click.ClickException(f"cannot write {json_path}: {err.strerror}") from None
    progress = _Progress(len(files), "scoring")
    audio_failures: list[str] = []

    def emit(r: CallResult) -> None:
        if json_out is not None:
            json_out.write(json.dumps(result_to_dict(r), ensure_ascii=False) + "\n")
        if not quiet:
            click.echo(_summary_line(r))

    def on_progress(outcome: Outcome) -> None:
        if isinstance(outcome, Failure):
            click.echo(f"error: {outcome}", err=True)
        progress(outcome)

    def fail(line: str) -> None:
        audio_failures.append(line)
        click.echo(f"error: {line}", err=True)

    scored_audio = 0
    try:
        summary = run_batch(
            files,
            lexicon,
            save=lambda items: store.save(items, lexicon.root),
            emit=emit,
            on_progress=on_progress,
            jobs=recognition.jobs,
        )
        progress.close()
        if recordings:
            from qc.inspection.engine import Inspector

            inspector = Inspector(lexicon)
            for transcript in _recognise(recordings, recognition.options, recognition.name_pattern, lexicon.root, fail):
                if not transcript.utterances:
                    continue
                result = inspector.score(transcript)
                store.save([(transcript, result)], lexicon.root)
                emit(result)
                scored_audio += 1
    except QCError as err:
        raise click.ClickException(str(err)) from None
    finally:
        progress.close()
        store.close()
        if json_out is not None and not quiet:
            json_out.close()
    failed = len(summary.failures) + len(audio_failures)
    total = summary.scored + scored_audio
    click.echo(
        f"scored {total} call(s), {failed} failed; ruleset {lexicon.version}; "
        f"stored in {store.engine.url.render_as_string(hide_password=True)}",
        err=True,
    )
    if failed or not total:
        sys.exit(1)


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the transcripts (one <call_id>.json per call).",
)
@asr_options
@lexicons_option
def transcribe(
    paths: tuple[str, ...],
    out_dir: Path,
    recognition: Recognition,
    lexicon_dir: Path | None,
) -> None:
    """Transcribe recordings (files, folders or a manifest .csv) into SPEC transcripts in --out.

    Each recording is transcribed once: results are cached by audio content, model and settings,
    so an interrupted batch continues where it stopped (--force redoes).

    \b
    Example:
        qc transcribe recordings/ --out transcripts/
        qc transcribe manifest.csv --out transcripts/ --agent-channel right
    """
    root = str(lexicon_dir or default_lexicon_dir())
    _load(Path(root))
    failures: list[str] = []

    def fail(line: str) -> None:
        failures.append(line)
        click.echo(f"error: {line}", err=True)

    written = 0
    try:
        for transcript in _recognise(list(paths), recognition.options, recognition.name_pattern, root, fail):
            write_transcript(transcript, out_dir)
            written += 1
    except QCError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"wrote {written} transcript(s) to {out_dir}, {len(failures)} failed", err=True)
    if failures or not written:
        sys.exit(1)


def _month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
        raise click.BadParameter(f"{value!r} is not a month like 2026-11")
    return value


month_option = click.option(
    "--month",
    required=True,
    callback=lambda _c, _p, v: _month(v),
    metavar="YYYY-MM",
    help="The month of the calls (by started_at).",
)
mask_option = click.option(
    "--no-mask", is_flag=True, help="Do not mask customers' phone, ID and card numbers and addresses in the output."
)


@cli.group()
def report() -> None:
    """Reports for inspectors and managers."""


@report.command("monthly")
@month_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="FILE.xlsx (summary, charts, one sheet per agent) or FILE.csv (+ FILE_明细.csv).",
)
@click.option("--agent", default=None, help="Only this agent (工号).")
@db_option
@mask_option
@lexicons_option
def report_monthly(
    month: str, out_path: Path, agent: str | None, db_url: str | None, no_mask: bool, lexicon_dir: Path | None
) -> None:
    """The monthly quality sheets (服务质量综合考评表) from the stored results.

    \b
    Example:
        qc report monthly --month 2026-11 --out 2026-11.xlsx
    """
    from qc.reports.write import write_monthly_csv, write_monthly_xlsx
    from qc.reports.monthly import build_monthly
    from qc.store import load_month, previous_month

    suffix = out_path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise click.BadParameter("--out must end in .xlsx or .csv", param_hint="--out")
    lexicon_obj = _load(lexicon_dir)
    try:
        store = Store(db_url)
        calls, hits = load_month(store, month, agent)
        if calls.empty:
            raise click.ClickException(
                f"no scored calls for {month}{' and agent ' + agent if agent else ''} in "
                f"{store.engine.url.render_as_string(hide_password=True)}; nothing written"
            )
        previous, _ = load_month(store, previous_month(month), agent)
        built = build_monthly(month, calls, hits, previous, lexicon_obj.scorecard.pass_mark, mask=not no_mask)
        if suffix == ".xlsx":
            write_monthly_xlsx(built, out_path)
            extra = ""
        else:
            extra = f" and {write_monthly_csv(built, out_path)}"
    except QCError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{month}: {len(calls)} call(s), {len(built.summary)} agent(s) → {out_path}{extra}", err=True)


@cli.command()
@click.option("--category", type=click.Choice(list(CATEGORIES)), default=None, help="Only this hit category.")
@click.option("--rule", default=None, help="Only this rule id (e.g. BAN-002).")
@click.option("--agent", default=None, help="Only this agent (工号).")
@click.option("--month", default=None, callback=lambda _c, _p, v: v and _month(v), metavar="YYYY-MM")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="FILE.html (with audio clips), .xlsx, .csv or .jsonl",
)
@db_option
@mask_option
def examples(
    category: str | None,
    rule: str | None,
    agent: str | None,
    month: str | None,
    limit: int,
    out_path: Path,
    db_url: str | None,
    no_mask: bool,
) -> None:
    """Violation examples for trainers: the hit, the turns around it, the rewrite, a clip.

    \b
    Example:
        qc examples --category banned --month 2026-11 --out banned.html
    """
    from qc.reports.examples import build_examples
    from qc.reports.examples_write import write_examples
    from qc.store import load_hits

    try:
        store = Store(db_url)
        rows = load_hits(store, category, rule, agent, month, limit)
        if not rows:
            raise click.ClickException("no stored hits match these filters; nothing written")
        write_examples(build_examples(rows, mask=not no_mask), out_path)
    except QCError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{len(rows)} example(s) → {out_path}", err=True)


@cli.command()
@month_option
@click.option("--per-agent", type=click.IntRange(min=1), default=5, show_default=True, help="Calls per agent.")
@click.option(
    "--random-share",
    type=click.FloatRange(0, 1),
    default=0.4,
    show_default=True,
    help="Share of each agent's list drawn at random after the vetoed and lowest-scoring calls.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same list.")
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="FILE.csv or FILE.xlsx"
)
@click.option("--agent", default=None, help="Only this agent (工号).")
@db_option
def sample(
    month: str, per_agent: int, random_share: float, seed: int, out_path: Path, agent: str | None, db_url: str | None
) -> None:
    """The calls inspectors should listen to: lowest scores and vetoed calls first, then a random share.

    \b
    Example:
        qc sample --month 2026-11 --per-agent 5 --out listen-2026-11.xlsx
    """
    import pandas as pd

    from qc.reports.write import atomic_output, write_csv
    from qc.reports.sampling import sample_calls
    from qc.store import load_month

    if out_path.suffix.lower() not in (".csv", ".xlsx"):
        raise click.BadParameter("--out must end in .csv or .xlsx", param_hint="--out")
    try:
        calls, _ = load_month(Store(db_url), month, agent)
        if calls.empty:
            raise click.ClickException(f"no scored calls for {month}; nothing written")
        picked = sample_calls(calls, per_agent, random_share, seed)
        table = pd.DataFrame(
            {
                "序号": range(1, len(picked) + 1),
                "工号": picked["agent_id"],
                "姓名": picked["name"],
                "通话编号": picked["call_id"],
                "通话时间": picked["started_at"],
                "得分": picked["score"],
                "致命项": picked["veto"].map({True: "是", False: "否"}),
                "抽样原因": picked["reason"],
                "录音": picked["audio"],
                "复听结论": "",
                "复听人": "",
            }
        )
        if out_path.suffix.lower() == ".csv":
            write_csv(table, out_path)
        else:
            with atomic_output(out_path) as tmp, pd.ExcelWriter(tmp, engine="xlsxwriter") as writer:
                table.to_excel(writer, sheet_name="复听清单", index=False)
                writer.sheets["复听清单"].freeze_panes(1, 0)
                writer.sheets["复听清单"].set_column(0, 10, 14)
    except QCError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{len(table)} call(s) to listen to → {out_path}", err=True)


@cli.group()
def lexicon() -> None:
    """Inspect and validate the lexicons (rules as data)."""


@lexicon.command("check")
@lexicons_option
def lexicon_check(lexicon_dir: Path | None) -> None:
    """Validate every lexicon file and run every rule's own examples.

    Each problem is printed with file, line and rule id; exit status 1 if there is any.

    \b
    Example:
        qc lexicon check --lexicons lexicons
    """
    root = lexicon_dir or default_lexicon_dir()
    lex, problems = check_lexicon(root)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {root}")
    assert lex is not None
    examples = sum(len(r.examples_hit) + len(r.examples_miss) for r in lex.rules)
    click.echo(f"OK: {len(lex.rules)} rules, {examples} examples pass; ruleset {lex.version} ({root})")


def main() -> None:
    cli(prog_name="qc")
