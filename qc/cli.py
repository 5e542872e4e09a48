"""The qc command line: a thin layer over the library. Only this module prints and exits."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import click

from qc import __version__
from qc.batch import Failure, Outcome, run_batch
from qc.config import default_lexicon_dir
from qc.errors import LexiconError, QCError
from qc.lexicon.check import check_lexicon
from qc.lexicon.load import Lexicon, load_lexicon
from qc.schema import CallResult
from qc.store import Store
from qc.transcripts import iter_inputs, result_to_dict

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

    def __init__(self, total: int, label: str) -> None:
        self.total = total
        self.done = 0
        self.label = label
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="call", desc=label, file=sys.stderr, leave=False)
        self.step = max(1, total // 10)

    def __call__(self, _outcome: Outcome) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        elif self.total >= 50 and (self.done % self.step == 0 or self.done == self.total):
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
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@lexicons_option
def score(
    paths: tuple[str, ...], db_url: str | None, json_path: str | None, jobs: int | None, lexicon_dir: Path | None
) -> None:
    """Score transcript files or folders of them, and store every result.

    Each call's previous result is replaced. A bad file is reported on stderr with the reason;
    the others are still scored and stored, and the exit status is 1.

    \b
    Example:
        qc score samples/calls --json -
    """
    lexicon = _load(lexicon_dir)
    try:
        store = Store(db_url)
    except QCError as err:
        raise click.ClickException(str(err)) from None
    files = list(iter_inputs(list(paths)))
    quiet = json_path == "-"
    json_out: IO[str] | None = None
    if json_path is not None:
        try:
            json_out = sys.stdout if quiet else open(json_path, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as err:
            raise click.ClickException(f"cannot write {json_path}: {err.strerror}") from None
    progress = _Progress(len(files), "scoring")

    def emit(r: CallResult) -> None:
        if json_out is not None:
            json_out.write(json.dumps(result_to_dict(r), ensure_ascii=False) + "\n")
        if not quiet:
            click.echo(_summary_line(r))

    def on_progress(outcome: Outcome) -> None:
        if isinstance(outcome, Failure):
            click.echo(f"error: {outcome}", err=True)
        progress(outcome)

    try:
        summary = run_batch(
            files,
            lexicon,
            save=lambda items: store.save(items, lexicon.root),
            emit=emit,
            on_progress=on_progress,
            jobs=jobs,
        )
    except QCError as err:
        raise click.ClickException(str(err)) from None
    finally:
        progress.close()
        store.close()
        if json_out is not None and not quiet:
            json_out.close()
    failed = len(summary.failures or [])
    click.echo(
        f"scored {summary.scored} call(s), {failed} failed; ruleset {lexicon.version}; "
        f"stored in {store.engine.url.render_as_string(hide_password=True)}",
        err=True,
    )
    if failed or not files:
        sys.exit(1)


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
