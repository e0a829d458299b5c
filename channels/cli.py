"""The `parley` command: check, schema, chat, serve, ingest, init.

Commands that read a bot take `--flows PATH`. Errors are printed as messages with exit code
1, never as tracebacks. Anything interpolated into output (file names, reasons, messages) is
printed without rich markup, so '[embeddings]' or '[draft].md' survive as written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from parley_bot.agents import safelog
from parley_bot.agents.config import FlowsConfig
from parley_bot.agents.errors import ConfigError, ParleyError
from parley_bot.agents.flowsfile import load_flows
from parley_bot.agents.scaffold import init_bot
from parley_bot.channels.messages import MAX_CONVERSATION_ID

app = typer.Typer(help="parley: business chatbots for Slack, WhatsApp and the web.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
# Piped output keeps one line per line (for scripts); a terminal gets word wrap.
out = Console(soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, soft_wrap=True)

FlowsOption = Annotated[Path, typer.Option("--flows", "-f", help="The bot's flows.yaml.")]
DEFAULT_FLOWS = Path("flows.yaml")


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
    except (ParleyError, OSError) as exc:
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
    debug: Annotated[bool, typer.Option(help="Verbose logs.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", help="Print the version and exit.", callback=_version, is_eager=True)] = False,
) -> None:
    handler = RichHandler(console=err, show_path=False)
    safelog.install(handler)  # escaped, no secrets, personal data redacted once a bot opens
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(message)s",
                        handlers=[handler])
    for noisy in ("httpx", "httpcore", "openai", "aiosqlite"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def check(flows: FlowsOption = DEFAULT_FLOWS) -> None:
    """Validate flows.yaml; print every problem as FILE:LINE:COL: field: message.

    Beyond the schema: every knowledge folder exists, every model can be set up (its
    provider package installed, its key variable set) and so can redaction (its hash key
    set). Nothing is sent over the network.
    """
    from parley_bot.agents.models import build_responders
    from parley_bot.agents.privacy import Redactor
    from parley_bot.knowledge.ingest import Ingestor

    config = _load(flows)
    with _errors():
        Ingestor(config.knowledge, config.root).check_sources()
        build_responders(config.models)
        Redactor.from_config(config.privacy)
    out.print(f"{flows}: ok — {config.name!r}, {len(config.skills)} skill(s), "
              f"model {config.model.name}", markup=False)


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
        "--verbose", "-v", help="Show which skill answered each turn.")] = False,
) -> None:
    """Chat in the terminal; with piped input, each line is one turn."""
    from parley_bot.agents.bot import Bot
    from parley_bot.channels.terminal import chat as run_chat

    config = _load(flows)

    async def main() -> None:
        async with Bot.open(config) as bot:
            await run_chat(bot, conversation, sys.stdin, out, verbose)

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
    reload: Annotated[bool, typer.Option(
        help="Apply changes to flows.yaml, tools/ and the index without a restart.")] = True,
) -> None:
    """Serve the bot over HTTP: /healthz, /api/chat, /api/conversations/{id}."""
    import uvicorn

    from parley_bot.agents.models import build_responders
    from parley_bot.agents.privacy import Redactor
    from parley_bot.channels.server import create_app
    from parley_bot.knowledge.ingest import Ingestor

    config = _load(flows)
    with _errors():  # fail here, with a message, rather than inside the server's start-up
        Redactor.from_config(config.privacy)
        build_responders(config.models)
        knowledge = Ingestor(config.knowledge, config.root).open()
    app = create_app(config, watch=flows if reload else None, knowledge=knowledge)
    # No logging config of uvicorn's own: its records (access lines hold request paths, and
    # so conversation ids) go through parley's handler and its filter.
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=None)


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


@app.command()
def init(directory: Annotated[Path, typer.Argument(help="Folder for the new bot.")]) -> None:
    """Create a new bot folder from the example bot."""
    with _errors():
        created = init_bot(directory)
    for path in created:
        out.print(f"  created  {path}", markup=False, highlight=False)
    out.print(f"\nNext: cd {directory} && parley chat", markup=False)


def main() -> None:
    app()
