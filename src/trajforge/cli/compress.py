"""`trajforge compress`: rows fitted to a training budget, middle turns replaced by a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from trajforge.cli.common import fail, pieces_progress
from trajforge.cli.options import ApiKey
from trajforge.dataset import LayoutError
from trajforge.dataset.compression import CompressReport, CompressSettings, Summarizer, compress
from trajforge.dataset.compression.pipeline import CompressError
from trajforge.dataset.targets import OutputError
from trajforge.trace import Message
from trajforge.trace.tokens import TokenizerError


def compress_command(
    inputs: Annotated[list[Path], typer.Argument(help="Run folders, row files or published datasets.")],
    max_tokens: Annotated[int, typer.Option(help="The training budget: most tokens a row may have.", metavar="N")],
    out: Annotated[Path, typer.Option(help="Output folder: <config>/train.jsonl and the report.", metavar="DIR")],
    tokenizer: Annotated[
        str | None,
        typer.Option(help="tokenizer.json, its folder or a hub id (default: 4 characters a token).", metavar="NAME"),
    ] = None,
    chat_template: Annotated[
        Path | None, typer.Option(help="A chat template file to count with, instead of the tokenizer's.")
    ] = None,
    keep_last: Annotated[int, typer.Option(help="Turns at the end never replaced.", metavar="K")] = 4,
    keep_too_long: Annotated[bool, typer.Option(help="Keep rows no cut fits, unchanged (default: drop).")] = False,
    summary_endpoint: Annotated[
        str | None, typer.Option(help="A model writes the summaries (default: extractive).", metavar="URL")
    ] = None,
    summary_model: Annotated[str | None, typer.Option(help="The summary model's name.", metavar="NAME")] = None,
    summary_max_tokens: Annotated[int, typer.Option(help="Most tokens of one summary.", metavar="N")] = 512,
    summary_concurrency: Annotated[int, typer.Option(help="Summary requests in flight.", metavar="N")] = 8,
    api_key: ApiKey = "EMPTY",
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).", metavar="N")] = None,
) -> None:
    """Fit every row to --max-tokens: keep the start and the last K turns, replace the fewest middle turns by a
    summary (cut only between a tool call's results and the next turn). Rows that fit are copied unchanged."""
    if (summary_endpoint is None) != (summary_model is None):
        raise fail("--summary-endpoint and --summary-model go together")
    try:
        template = chat_template.read_text(encoding="utf-8") if chat_template else None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{chat_template}: cannot read the chat template: {exc}") from None
    settings = CompressSettings(
        max_tokens=max_tokens,
        tokenizer=tokenizer,
        chat_template=template,
        keep_last=keep_last,
        keep_too_long=keep_too_long,
        workers=workers,
        summary_concurrency=summary_concurrency,
        summary_max_tokens=summary_max_tokens,
    )
    summarizer = _summarizer(summary_endpoint, summary_model, api_key) if summary_endpoint and summary_model else None
    progress, update = pieces_progress("compress")
    try:
        with progress:
            report = compress(
                inputs,
                out,
                settings,
                summarizer=summarizer,
                progress=update,
            )
    except (CompressError, LayoutError, OutputError, TokenizerError) as exc:
        raise fail(str(exc)) from None
    _print(report)
    kept = sum(c.fits + c.compressed for c in report.configs.values())
    if kept == 0:
        raise fail("no row was written: every input row was unreadable or too long", 1)


def _summarizer(endpoint: str, model: str, api_key: str) -> Summarizer:
    """Summaries from an OpenAI-compatible endpoint (one client per event loop: each piece runs its own)."""
    from trajforge.policy import ModelConfig, OpenAIPolicy

    async def summarize(messages: list[Message], max_tokens: int) -> str:
        policy = OpenAIPolicy(ModelConfig(endpoint, model, api_key=api_key, max_tokens=max_tokens, max_retries=2))
        try:
            completion = await policy.complete(messages, [])
        finally:
            await policy.close()
        text = (completion.message.content or "").strip()
        if not text:
            raise ValueError("the summary model answered with no text")
        return text

    return summarize


def _print(report: CompressReport) -> None:
    table = Table(title=f"Compressed to {report.settings.max_tokens} tokens")
    for column in ("config", "read", "fit", "compressed", "too long", "skipped", "tokens p95 before/after"):
        table.add_column(column)
    for name, counts in report.configs.items():
        figures = counts.summary()
        too_long = f"{counts.too_long} {'kept' if report.settings.keep_too_long else 'dropped'}"
        p95 = f"{figures['tokens_before']['p95']}/{figures['tokens_after']['p95']}"
        cells = (counts.read, counts.fits, counts.compressed, too_long, counts.skipped, p95)
        table.add_row(name, *(str(cell) for cell in cells))
    console = Console()
    console.print(table)
    for name, counts in report.configs.items():
        if counts.model_summaries or counts.summary_fallbacks:
            console.print(
                f"{name}: {counts.model_summaries} summaries by the model, {counts.summary_fallbacks} fell back"
            )
        for problem in counts.problems[:5]:
            console.print(f"{name}: skipped {problem}", markup=False, highlight=False)
    files = ", ".join(str(p) for p in report.written.values())
    console.print(f"rows: {files}; report: {report.out / 'compress-report.json'}", markup=False, highlight=False)
