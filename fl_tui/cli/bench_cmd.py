"""`fl-tui bench`: the benchmark matrix headless, with the workshop's environment variables honoured."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import signal
import sys
from pathlib import Path

from fl_tui.bench import load
from fl_tui.bench.child import app_quitting
from fl_tui.bench.engine import BenchEngine, BenchSettings, Target, new_run_id
from fl_tui.bench.events import Event
from fl_tui.bench.prefill import parse_prompt_tokens
from fl_tui.bench.records import ModelStatus
from fl_tui.bench.report import render_csv, render_json, render_markdown
from fl_tui.bench.resume import (
    Carried,
    carried_over,
    check_out,
    remove_run,
    restart_requests_file,
    settings_record,
)
from fl_tui.bench.reuse import Reuse
from fl_tui.bench.runfiles import read_run
from fl_tui.bench.runschema import ModelJson, RunJson, as_run
from fl_tui.bench.wire import WireWriter
from fl_tui.cli.bench_progress import BenchProgress
from fl_tui.cli.context import backend_for, settings_for
from fl_tui.cli.output import Format, print_document
from fl_tui.connection.base import Backend, Capability
from fl_tui.connection.endpoint import normalize_endpoint
from fl_tui.connection.resolve import EMBEDDED, Choice, open_backend
from fl_tui.core import locations, platform
from fl_tui.core.endpoint_lock import EndpointLock, held_here
from fl_tui.core.errors import UserError
from fl_tui.core.prompts import Prompt, PromptSet, load_prompt_set
from fl_tui.core.redact import redact_url
from fl_tui.core.resources import find_prompt_set
from fl_tui.core.textsafe import plain
from fl_tui.models.specs import load_specs


def _positive(name: str, value: int | float | None) -> None:
    """A positive, finite number (`--timeout inf` would let a stalled stream hang the run: not a bound)."""
    if value is not None and not (0 < value < math.inf):
        raise UserError(f"--{name} must be a positive number, got {value:g}")


def _text(value: str, what: str) -> str:
    """Arguments and environment variables arrive with undecodable bytes as lone surrogates (surrogateescape):
    such text cannot go into run.json, so it is refused here, naming where it came from."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UserError(f"{what} is not valid UTF-8 text (byte {exc.start + 1})") from exc
    return value


def _prompt_set(args: argparse.Namespace) -> PromptSet:
    single = os.environ.get("BENCH_PROMPT")
    if single:
        return PromptSet(name="BENCH_PROMPT", prompts=[Prompt(id="p1", prompt=_text(single, "BENCH_PROMPT"))])
    return load_prompt_set(find_prompt_set(args.prompts))


def _named_models(args: argparse.Namespace) -> list[str]:
    """The models --models or BENCH_MODELS name (checked before anything connects), or [] for the default."""
    chosen = args.models or os.environ.get("BENCH_MODELS")
    if not chosen:
        return []
    chosen = _text(chosen, "--models" if args.models else "BENCH_MODELS")
    names = [m.strip() for m in chosen.split(",") if m.strip()]
    if not names:
        raise UserError(f"--models: no model named in {chosen!r}")
    return names


def _models(named: list[str], backend: Backend, specs: dict, events: bool) -> list[str]:
    if named:
        if not events:  # a person's typo is bad input (exit 2), not a failed model with a report; the app
            for name in named:  # (--events) picked from the backend's list and shows a failure per model instead
                backend.resolve(name)
        return named
    usable = (lambda m: m.cached) if backend.supports(Capability.CACHED) else (lambda m: True)
    available = [m for m in backend.list_models() if usable(m)]
    preferred = [m.alias for m in available if m.alias in specs or m.id in specs]
    names = list(dict.fromkeys(preferred or [m.id for m in available]))
    if not names:
        raise UserError("no models to benchmark: none is cached; pass --models")
    return names


def _load_options(args: argparse.Namespace) -> dict:
    """--concurrency/--rate/--duration/--slo/--prompt-tokens, checked (a bad one is one line, exit 2) into
    BenchSettings fields."""
    try:
        levels = load.parse_levels(args.concurrency) if args.concurrency is not None else None
        lengths = parse_prompt_tokens(args.prompt_tokens) if args.prompt_tokens is not None else ()
        rate = str(load.parse_rate(args.rate)) if args.rate is not None else None
        slo = load.parse_slo(args.slo) if args.slo is not None else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.duration is not None and rate is None:
        raise UserError("--duration needs --rate (an unpaced run is measured in --rounds)")
    _positive("duration", args.duration)
    levels = levels or ((load.UNCAPPED,) if rate else (1,))
    return {"concurrency": levels[0], "levels": levels if len(levels) > 1 else (), "rate": rate,
            "duration_s": args.duration, "slo": slo, "prompt_tokens": lengths}


def bench_settings(args: argparse.Namespace, config) -> BenchSettings:
    rounds = args.rounds if args.rounds is not None else int(os.environ.get("BENCH_ROUNDS") or config.rounds)
    settings = BenchSettings(
        rounds=rounds,
        warmup=config.warmup if args.warmup is None else args.warmup,
        temperature=args.temperature,
        seed=args.seed,
        max_tokens=args.max_tokens or config.max_tokens,
        timeout_s=args.timeout or config.timeout_s,
        watts=args.watts,
        keep_alive=args.keep_alive,
        **_load_options(args),
    )
    for name in ("rounds", "max_tokens", "timeout_s", "watts"):
        _positive(name.replace("_s", "").replace("_", "-"), getattr(settings, name))
    if settings.warmup < 0:
        raise UserError("--warmup must be 0 or more")
    return settings


async def _with_wire(engine: BenchEngine) -> dict:
    """The run with its events on stdout (see fl_tui.bench.wire); human progress stays on stderr."""
    wire = await WireWriter.open()
    human = engine.observer

    def both(event: Event) -> None:
        wire.observe(event)
        human(event)

    engine.observer, engine.on_chunk = both, wire.chunk
    try:
        return await engine.run()
    finally:
        await asyncio.shield(wire.drain())


class Stopped(Exception):
    """A stop signal arrived (SIGTERM, SIGHUP, SIGBREAK): the run ends as on Ctrl-C."""


def _stop_on_signals(task: asyncio.Task, received: list[int]) -> dict:
    """Cancel the run on the platform's stop signals, as asyncio.run does on Ctrl-C: what finished is written."""
    loop = asyncio.get_running_loop()

    def stop(signum: int, _frame: object) -> None:
        received.append(signum)
        loop.call_soon_threadsafe(task.cancel)

    return {sig: signal.signal(sig, stop) for sig in platform.stop_signals()}


async def _run_engine(engine: BenchEngine, events: bool, received: list[int]) -> dict:
    task = asyncio.ensure_future(_with_wire(engine) if events else engine.run())
    previous = _stop_on_signals(task, received)
    try:
        return await task
    except asyncio.CancelledError:
        if received:
            raise Stopped from None
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _lock(backend: Backend, held: list[EndpointLock]) -> None:
    """One benchmark per endpoint (core.endpoint_lock): EndpointBusy, naming the holder, when another one runs
    there; nothing to take when the app that started this process holds it for us."""
    if held_here(backend.endpoint):
        return
    lock = EndpointLock(backend.endpoint)
    lock.acquire()
    held.append(lock)


def _targets(args: argparse.Namespace, named: list[str], specs: dict, carried: Carried | None,
             held: list[EndpointLock], deadline_s: float) -> list[Target]:
    """The endpoints after the first (`--endpoint A --endpoint B`), each checked now (a malformed URL is bad
    input before anything runs) and connected when its turn comes. There a named model that is not found is a
    failed model of the run, not an exit: the endpoints before it have their results."""
    targets: list[Target] = []
    seen: list[str] = []
    for given in args.endpoints:
        try:
            url = None if given.strip() == EMBEDDED else normalize_endpoint(given)
        except ValueError as exc:
            raise UserError(f"--endpoint: {exc}") from None
        shown = EMBEDDED if url is None else redact_url(url) or url
        if shown in seen:
            raise UserError(f"--endpoint {shown} is given twice")
        seen.append(shown)
        if len(seen) == 1:
            continue  # the first is opened as every command opens its endpoint

        def connect(url=url, shown=shown) -> tuple[Backend, list[str]]:
            backend = open_backend(Choice(url, "--endpoint"), settings_for(args), debug=args.debug,
                                   deadline_s=deadline_s)
            try:
                _lock(backend, held)
                models = _models(named, backend, specs, events=True)
            except BaseException:
                backend.close()
                raise
            done = carried.names(shown) if carried else set()
            return backend, [m for m in models if m not in done]

        targets.append(Target(shown, connect, tuple(named)))
    return targets


def _unmeasured_reason(backend: Backend) -> str | None:
    """Why the process serving the models cannot be watched (remote, or sockets not listable here), if so."""
    return backend.host().reason


def _debug_stamps() -> None:
    """--debug: how this platform stamps what arrives (the kernel's receive time, or the read's own)."""
    from fl_tui.connection.stamped import WHY_NOT

    print(f"fl-tui: debug: {WHY_NOT or 'http:// reads carry the kernel receive stamp (SO_TIMESTAMPNS)'}",
          file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    if args.events and args.format is not Format.TEXT:
        raise UserError(f"--format {args.format}: not with --events (both write to standard output)")
    config = settings_for(args)
    if args.debug:
        _debug_stamps()
    try:
        settings = bench_settings(args, config)
    except ValueError as exc:  # BENCH_ROUNDS that is not a number
        raise UserError(f"BENCH_ROUNDS: {exc}") from exc
    prompt_set = _prompt_set(args)
    specs = load_specs(args.models_file)
    named = _named_models(args)
    settings = dataclasses.replace(settings, models_asked=tuple(named))  # what --resume holds a run to
    if args.reuse is not Reuse.REFUSE and not args.out:
        raise UserError("--resume and --overwrite need --out (the run folder to continue or replace)")
    run_id = new_run_id()
    out = Path(args.out) if args.out else locations.runs_dir() / run_id
    check_out(out, args.reuse)
    carried: Carried | None = None
    if args.reuse is Reuse.RESUME:
        carried = carried_over(out, settings_record(settings, prompt_set.name),
                               [p.model_dump() for p in prompt_set.prompts])
    held: list[EndpointLock] = []
    try:
        return _measure(args, settings, prompt_set, specs, named, out, run_id, carried, held)
    finally:
        for lock in held:
            lock.release()


def _measure(args: argparse.Namespace, settings: BenchSettings, prompt_set: PromptSet, specs: dict,
             named: list[str], out: Path, run_id: str, carried: Carried | None, held: list[EndpointLock]) -> int:
    received: list[int] = []
    more = _targets(args, named, specs, carried, held, settings.timeout_s)
    # fast_exit: every file of the run is written and closed before the backend is (finished or interrupted), and
    # the runtime's own release writes nothing of ours; it would hold the shell for about two seconds more.
    with backend_for(args, deadline_s=settings.timeout_s, fast_exit=True) as (backend, _choice):
        _lock(backend, held)
        models = _models(named, backend, specs, args.events)  # known first: only then is an old run replaced
        if args.reuse is Reuse.OVERWRITE:
            remove_run(out)
        if carried is not None:
            restart_requests_file(out, carried)
            models = [m for m in models if m not in carried.names(backend.shown_endpoint if more else None)]
            print(f"resuming run {carried.run_id}: {len(carried.models)} model(s) finished, "
                  f"{len(models)} to run" + (" at the first endpoint" if more else ""), file=sys.stderr)
            if not models and not more:  # nothing left to run: the run's report as it stands, in the format asked
                if not args.events:
                    _print_report(args.format, out, read_run(out))
                return 0
        engine = BenchEngine(
            backend, models, prompt_set, settings, out,
            specs=specs, observer=BenchProgress(), run_id=run_id, carried=carried, more=more,
        )
        engine.leave_loaded = app_quitting
        unmeasured = _unmeasured_reason(backend)
        new = [f"memory and CPU of the server are not measured: {unmeasured}"] if unmeasured else []
        engine.warnings += list(dict.fromkeys([*(carried.warnings if carried else []), *new]))
        try:
            asyncio.run(_run_engine(engine, args.events, received))
        except (KeyboardInterrupt, Stopped):
            print(f"\ninterrupted: what finished is in {out}", file=sys.stderr)
            _print_statuses(as_run(engine.run_dict()).models)
            return 128 + (received[0] if received else signal.SIGINT)
    record = engine.finished
    if not args.events:
        _print_report(args.format, out, record)
    unreached = engine.failed_endpoints
    for endpoint in unreached:
        print(f"{plain(endpoint)}: not benchmarked (see the warnings in the report)", file=sys.stderr)
    return 1 if _print_statuses(record.models) or unreached else 0


def _print_report(fmt: Format, out: Path, run: RunJson) -> None:
    """The finished run's report on stdout: as text, report.md and the run folder after the progress; as json, csv
    or md, the report alone, for a program to read (the folder is said on stderr, with the progress)."""
    if fmt is Format.TEXT:
        if sys.stdout.isatty():  # apart from the progress above it; piped, the report's first line comes first
            print()
        print((out / "report.md").read_text(encoding="utf-8"))
        print(f"run directory: {out}")
        return
    print(f"run directory: {out}", file=sys.stderr)
    render = {Format.JSON: render_json, Format.CSV: render_csv, Format.MD: render_markdown}[fmt]
    print_document(render(run), end="\n" if fmt is Format.MD else "")  # JSON and CSV end their last line


def _print_statuses(models: list[ModelJson]) -> bool:
    """One stderr line per model that is not ok (its status word, measured/planned counts, why); any printed?"""
    troubled = [m for m in models if m.status != ModelStatus.OK]
    for m in troubled:
        counts = f" ({m.measured_ok}/{m.planned} measured)" if m.planned is not None else ""
        print(f"{plain(m.model)}: {m.status}{counts}: {plain(m.error or '')}", file=sys.stderr)
    return bool(troubled)
