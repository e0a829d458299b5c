"""The `parley` command: check, schema, chat, serve, ingest, init, eval, export.

Commands that read a bot take `--flows PATH`. Errors are printed as messages with exit code
1, never as tracebacks. Anything interpolated into output (file names, reasons, messages) is
printed without rich markup, so '[embeddings]' or '[draft].md' survive as written.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.errors import ConfigError, ParleyError
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scaffold import init_bot
from parley_bot.channels.logs import configure_logging
from parley_bot.channels.messages import MAX_CONVERSATION_ID

app = typer.Typer(help="parley: business chatbots for Slack, WhatsApp and the web.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
# Piped output keeps one line per line (for scripts); a terminal gets word wrap.
out = Console(soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, soft_wrap=True)

FlowsOption = Annotated[Path, typer.Option("--flows", "-f", help="The bot's flows.yaml.")]
DEFAULT_FLOWS = Path("flows.yaml")


class LogLevel(StrEnum):
    debug = "debug"
    info = "info"
    warning = "warning"
    error = "error"


class LogFormat(StrEnum):
    auto = "auto"
    text = "text"
    json = "json"


LogLevelOption = Annotated[LogLevel, typer.Option(help="Lowest level logged.",
                                                  case_sensitive=False)]
LogFormatOption = Annotated[LogFormat, typer.Option(
    help="'auto': text on a terminal, JSON lines otherwise.", case_sensitive=False)]


@contextmanager
def _errors() -> Iterator[None]:
    """Print parley's errors as messages and exit 1."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False, emoji=False)
        err.print(f"[red]{len(exc.problems)} problem(s) found[/]")
        raise typer.Exit(1) from None
    except (ParleyError, OSError, ValidationError) as exc:
        err.print(Text.assemble(("error: ", "red"), str(exc)), highlight=False)
        raise typer.Exit(1) from None


def _load(flows: Path) -> FlowsConfig:
    with _errors():
        return load_flows(flows)


def _version(value: bool) -> None:
    if value:
        from parley_bot import __version__

        print(f"parley {__version__}")
        raise typer.Exit()


@app.callback()
def _setup(
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", callback=_version, is_eager=True)] = False,
) -> None:
    configure_logging()  # `serve` and `chat` take --log-level and --log-format


@app.command()
def check(flows: FlowsOption = DEFAULT_FLOWS) -> None:
    """Validate flows.yaml; print every problem as FILE:LINE:COL: field: message.

    Beyond the schema: every knowledge folder exists, every model can be set up (its
    provider package installed, its key variable set) and so can redaction (its hash key
    set); the eval files (`eval.dataset`) are valid too. Nothing is sent over the network.
    """
    from parley_bot.agents.evals.cases import load_cases
    from parley_bot.agents.models import build_responders
    from parley_bot.agents.privacy import Redactor
    from parley_bot.agents.settings import Settings
    from parley_bot.knowledge.ingest import Ingestor

    config = _load(flows)
    with _errors():
        Settings()  # REDIS_URL and secrets from the environment
        Ingestor(config.knowledge, config.root).check_sources()
        build_responders(config.models)
        Redactor.from_config(config.privacy)
        cases = load_cases(config)
    out.print(f"{flows}: ok — {config.name!r}, {len(config.skills)} skill(s), "
              f"model {config.model.name}, {len(cases)} eval case(s)", markup=False)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here.")] = None,
) -> None:
    """Print (or write) the JSON Schema of flows.yaml, for editors."""
    text = json.dumps(FlowsConfig.model_json_schema(), indent=2)
    if output is None:
        print(text)
    else:
        with _errors():
            output.write_text(text + "\n")
        out.print(f"wrote {output}", markup=False)


def _conversation_id(value: str) -> str:
    if not 1 <= len(value) <= MAX_CONVERSATION_ID:
        raise typer.BadParameter(f"must be 1 to {MAX_CONVERSATION_ID} characters")
    return value


@app.command()
def chat(
    flows: FlowsOption = DEFAULT_FLOWS,
    conversation: Annotated[str, typer.Option(
        help="Conversation id to continue.", callback=_conversation_id)] = "terminal",
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Show each reply's skill, model, sources and time.")] = False,
    log_level: LogLevelOption = LogLevel.warning,
    log_format: LogFormatOption = LogFormat.auto,
) -> None:
    """Chat in the terminal (/help lists commands); with piped input, each line is one turn."""
    from parley_bot.agents.bot import Bot
    from parley_bot.channels.terminal import chat as run_chat

    configure_logging(log_level, log_format)
    config = _load(flows)
    history = config.path(".parley/chat-history")

    async def main() -> None:
        async with Bot.open(config) as bot:
            await run_chat(bot, conversation, sys.stdin, out, verbose=verbose, history=history)

    with _errors():
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            raise typer.Exit(130) from None


@app.command()
def serve(
    flows: FlowsOption = DEFAULT_FLOWS,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: LogLevelOption = LogLevel.info,
    log_format: LogFormatOption = LogFormat.auto,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes; they share the configured store.")] = 1,
    reload: Annotated[bool, typer.Option(
        help="Apply changes to flows.yaml, tools/ and the index without a restart.")] = True,
    slack_socket: Annotated[bool, typer.Option(
        help="Take Slack's events over Socket Mode (needs SLACK_APP_TOKEN): for a machine "
             "Slack cannot reach.")] = False,
) -> None:
    """Serve the bot over HTTP: /healthz, /metrics, /api/chat, /api/conversations/{id}, and
    the web widget (/widget.js, a demo page at /) when flows.yaml's channels.web is set,
    Slack's /slack/events when SLACK_SIGNING_SECRET is set."""
    log_config = configure_logging(log_level, log_format)
    config = _load(flows)
    with _metrics_directory():
        import uvicorn

        from parley_bot.agents.models import build_responders
        from parley_bot.agents.privacy import Redactor
        from parley_bot.agents.settings import Settings
        from parley_bot.channels.server import (
            FLOWS_VARIABLE,
            HOST_VARIABLE,
            RELOAD_VARIABLE,
            create_app,
        )
        from parley_bot.channels.slack import credentials as slack_credentials
        from parley_bot.knowledge.ingest import Ingestor

        with _errors():  # fail here, with a message, rather than inside the server's start-up
            settings = Settings()
            if config.channels.web is not None and settings.session_secret() is None \
                    and workers > 1:  # one random secret for all workers, as each would make
                os.environ[SESSION_SECRET] = secrets.token_urlsafe(32)
                logging.getLogger(__name__).warning(
                    "%s is unset: widget sessions end when the server stops", SESSION_SECRET)
            Redactor.from_config(config.privacy)
            build_responders(config.models)  # each reload builds its own from flows.yaml
            knowledge = Ingestor(config.knowledge, config.root).open()  # built once, for all
            if slack_socket and workers > 1:
                raise ParleyError("--slack-socket runs in one worker process: drop --workers")
            slack_credentials(config, settings, socket=slack_socket)  # a token missing: now
        # uvicorn's records (access lines hold request paths, and so conversation ids) go
        # through parley's handler, its filter and its format, in every worker process.
        if workers == 1:
            app = create_app(config, settings, host=host, watch=flows if reload else None,
                             slack_socket=slack_socket, knowledge=knowledge)
            gc.freeze()  # see `app_from_environment`
            uvicorn.run(app, host=host, port=port, log_config=log_config, log_level=log_level)
            return
        os.environ[FLOWS_VARIABLE] = str(flows.resolve())  # each worker process loads it
        os.environ[RELOAD_VARIABLE] = "1" if reload else "0"
        os.environ[HOST_VARIABLE] = host
        uvicorn.run("parley_bot.channels.server:app_from_environment", factory=True,
                    workers=workers, host=host, port=port, log_config=log_config,
                    log_level=log_level)


MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
SESSION_SECRET = "PARLEY_SESSION_SECRET"


@contextmanager
def _metrics_directory() -> Iterator[None]:
    """Run the block with prometheus-client in multiprocess mode, so /metrics adds up every
    worker process (each writes its own files there). The variable must be set before
    prometheus_client is first imported. A directory given in the environment is used as is
    (the service manager empties it at each start); otherwise a fresh one lives as long as
    the server."""
    if MULTIPROC_DIR in os.environ:
        yield
        return
    assert "prometheus_client" not in sys.modules, "set the metrics directory before importing"
    path = tempfile.mkdtemp(prefix="parley-metrics-")
    os.environ[MULTIPROC_DIR] = path
    try:
        yield
    finally:
        del os.environ[MULTIPROC_DIR]
        shutil.rmtree(path, ignore_errors=True)


@app.command()
def ingest(flows: FlowsOption = DEFAULT_FLOWS) -> None:
    """Index the knowledge sources, re-reading only what changed."""
    from parley_bot.knowledge.ingest import Ingestor

    config = _load(flows)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[uri]}", style="dim", markup=False))
    with _errors(), Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("indexing", total=None, uri="")

        def advance(done: int, total: int, uri: str) -> None:
            progress.update(task, completed=done, total=total, uri=uri)

        _, report = Ingestor(config.knowledge, config.root).run(advance)
    out.print(
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, "
        f"{len(report.skipped)} skipped — {report.chunks} chunks in {report.seconds:.2f} s"
    )
    for key in report.added + report.updated:
        out.print(f"  indexed  {key}", markup=False, highlight=False)
    for key in report.removed:
        out.print(f"  removed  {key}", markup=False, highlight=False)
    for key, reason in report.skipped:
        err.print(Text.assemble("  ", ("skipped", "yellow"), f"  {key}: {reason}"),
                  highlight=False)
    for key, reason in report.ignored:
        err.print(Text.assemble("  ", ("ignored", "dim"), f"  {key}: {reason}"), highlight=False)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new bot.")],
    example: Annotated[bool, typer.Option(
        "--example", help="Copy the Acme Outdoor example shop instead of the starter.")] = False,
) -> None:
    """Create a new bot folder: a small starter named after the folder, or --example."""
    with _errors():
        created = init_bot(directory, example=example)
    for path in created:
        out.print(f"  created  {path}", markup=False, highlight=False)
    out.print(f"\nNext: cd {directory} && parley chat", markup=False)


@app.command("eval")
def evaluate(
    flows: FlowsOption = DEFAULT_FLOWS,
    model: Annotated[list[str] | None, typer.Option(
        "--model", "-m", help="A model to compare (repeatable); default: eval.models.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the report as JSON.")]
    = None,
    html_file: Annotated[Path | None, typer.Option("--html", help="Write an HTML report.")]
    = None,
    concurrency: Annotated[int | None, typer.Option(
        min=1, help="Conversations at once (default: eval.concurrency).")] = None,
    cache: Annotated[bool, typer.Option(help="Reuse answers of earlier runs.")] = True,
    log_level: LogLevelOption = LogLevel.warning,
) -> None:
    """Run the eval set through the bot for each model; report accuracy, cost and latency
    against eval.targets. Exits 1 when the production model (flows.yaml `model`) misses one."""
    from parley_bot.agents.evals.cache import EvalCache
    from parley_bot.agents.evals.cases import load_cases
    from parley_bot.agents.evals.render import by_check, html, table
    from parley_bot.agents.evals.report import as_json, summarize
    from parley_bot.agents.evals.runner import models_to_run, run_eval

    configure_logging(log_level)
    config = _load(flows)
    with _errors():
        cases = load_cases(config)
        specs = models_to_run(config, model or [])
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("evaluating", total=len(cases) * len(specs))
            run = asyncio.run(run_eval(
                config, cases, specs, concurrency=concurrency or config.eval.concurrency,
                cache=EvalCache(config) if cache else None,
                advance=lambda: progress.advance(task)))
        summary = summarize(run, config.eval, config.model.name)
        out.print(table(summary))
        for score in summary.scores:
            out.print(f"{score.model}: {by_check(score)}", markup=False, highlight=False)
        out.print(f"cheapest model meeting the accuracy target: "
                  f"{summary.cheapest_meeting_accuracy or 'none'}", markup=False)
        if json_file is not None:
            json_file.write_text(json.dumps(as_json(summary), indent=2) + "\n")
        if html_file is not None:
            html_file.write_text(html(summary), encoding="utf-8")
    if summary.production_misses:
        err.print(f"the production model {config.model.name} misses: "
                  f"{', '.join(summary.production_misses)}", markup=False)
        raise typer.Exit(1)


class ExportFormat(StrEnum):
    openai_finetune = "openai-finetune"
    few_shot = "few-shot"
    eval = "eval"


@app.command()
def export(
    format: Annotated[ExportFormat, typer.Option("--format", help="What to write.")],
    flows: FlowsOption = DEFAULT_FLOWS,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write here (fine-tuning: the training file; the validation "
        "file goes beside it); default: print.")] = None,
    skill: Annotated[str | None, typer.Option(help="The skill, for few-shot.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Few-shot examples at most.")] = 3,
    validation: Annotated[float, typer.Option(
        min=0, max=0.9, help="Share of fine-tuning examples held out for validation.")] = 0.1,
) -> None:
    """Logged prompts (log_prompts) and rated conversations as fine-tuning data, a skill's
    few-shot block or eval cases."""
    from parley_bot.agents.evals import export as exports

    config = _load(flows)
    if format is ExportFormat.few_shot and config.skill(skill) is None:
        err.print(f"error: --skill must name one of: {', '.join(config.skills_by_name)}",
                  markup=False)
        raise typer.Exit(2)
    with _errors():
        records, turns = asyncio.run(exports.conversations(config))
        if format is ExportFormat.openai_finetune:
            train, held = exports.split(exports.finetune_examples(exports.join(records, turns)),
                                        validation)
            if output is None:
                print(exports.jsonl(train + held), end="")
                return
            output.write_text(exports.jsonl(train), encoding="utf-8")
            beside = output.with_name(output.stem + ".validation.jsonl")
            beside.write_text(exports.jsonl(held), encoding="utf-8")
            out.print(f"wrote {len(train)} example(s) to {output}, {len(held)} to {beside}",
                      markup=False)
            return
        text = (exports.few_shot(turns, skill or "", limit) if format is ExportFormat.few_shot
                else exports.eval_cases(turns))
        if output is None:
            print(text, end="")
        else:
            output.write_text(text, encoding="utf-8")
            out.print(f"wrote {output}", markup=False)


def main() -> None:
    app()
