"""The benchmark engine: models x prompts x rounds over one streaming HTTP path, measured as the README
says ("How the figures are measured").

Headless (`fl-tui bench`) and the Benchmark tab run this same coroutine. It reports progress through an
observer callback (called on the engine's loop: keep it cheap, e.g. append to a queue) and exposes the request
in flight as a `LiveRequest` whose event list grows as bytes arrive, so a UI can draw it on its own clock.

Per model: resolve, load (timed apart from any request, with the RSS it adds), warm up with a prompt that is
not in the measured set (so no measured prompt sits in a prefix cache before its first round), then the
measured rounds, round-major (every prompt once, then again) so slow drift spreads over all prompts. A failure
is recorded and the matrix goes on; there are no retries.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from fl_tui.bench import environment, load, stats
from fl_tui.bench.events import (
    LiveRequest,
    ModelFinished,
    ModelPhase,
    Observer,
    Phase,
    RequestFinished,
    RequestStarted,
    RunFinished,
    RunStarted,
)
from fl_tui.bench.gil import prompt_switches
from fl_tui.bench.metrics import request_result
from fl_tui.bench.records import PERCENTILE_METHOD, RUN_SCHEMA, ModelResult, ModelStatus, RequestResult
from fl_tui.bench.resume import LOAD_KEYS, Carried
from fl_tui.bench.runwriter import RunWriter
from fl_tui.bench.sampler import MB, ResourceSampler
from fl_tui.connection.base import Backend, BackendError, Capability, ModelEntry
from fl_tui.connection.chat import chat_body, stream_chat, stream_client
from fl_tui.connection.sse import SSEEvent
from fl_tui.core.prompts import Prompt, PromptSet

WARMUP_PROMPT = "Reply with one short sentence about the weather."


@dataclass(frozen=True)
class BenchSettings:
    rounds: int = 3
    warmup: int = 1
    temperature: float | None = 0.0
    seed: int | None = None
    max_tokens: int = 128
    concurrency: int = 1  # the first (or only) load level
    levels: tuple[int, ...] = ()  # --concurrency 1,2,4: the matrix once per level; () means (concurrency,)
    rate: str | None = None  # --rate: "5" or "poisson:5" requests/s pace the starts (load.parse_rate)
    duration_s: float | None = None  # with a rate: as many requests as fall due in this time, instead of rounds
    slo: dict | None = None  # --slo: {"ttft_ms": 500, ...} bounds for goodput (load.parse_slo)
    timeout_s: float = 120.0
    watts: float | None = None
    keep_alive: bool = False  # see connection.chat.stream_client: reuse costs ~40 ms of TTFT on Foundry Local
    warmup_prompt: str = WARMUP_PROMPT


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BenchEngine:
    def __init__(
        self,
        backend: Backend,
        models: list[str],
        prompt_set: PromptSet,
        settings: BenchSettings,
        out_dir: Path,
        *,
        specs: dict | None = None,
        observer: Observer | None = None,
        on_chunk: Callable[[SSEEvent], None] | None = None,
        run_id: str | None = None,
        carried: Carried | None = None,
    ):
        """`observer` gets the events of fl_tui.bench.events; `on_chunk`, when given, gets each stamped SSE event
        of the request in flight instead of its LiveRequest keeping them (the `--events` wire forwards them).
        `carried`: what an earlier attempt at this run finished (--resume); it goes into run.json as it was."""
        if not models:
            raise ValueError("no models to benchmark")
        self.backend = backend
        self.models = models
        self.prompt_set = prompt_set
        self.settings = settings
        self.carried = carried
        self.run_id = carried.run_id if carried else run_id or new_run_id()
        self.run_dir = Path(out_dir)
        self.specs = specs or {}
        self.observer = observer or (lambda _event: None)
        self.on_chunk = on_chunk
        self.requests: list[RequestResult] = []
        self.model_results: list[ModelResult] = []
        self.warnings: list[str] = []
        self.started_at = carried.started_at if carried else _now()
        self._run_start_ns = time.perf_counter_ns()
        self.environment: dict | None = None  # gathered when the run starts (environment.gather)
        self._writer: RunWriter | None = None
        # Parsing a finished stream and writing its line happen here, off the loop that stamps the others
        self._recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fl-tui-record")
        self.levels = settings.levels or (settings.concurrency,)
        self.rate = load.parse_rate(settings.rate) if settings.rate else None
        kept = carried.schedule_seed if carried else None
        self.schedule_seed = next(s for s in (settings.seed, kept, secrets.randbelow(2**31)) if s is not None)

    # -- the run ------------------------------------------------------------------------------------------

    async def run(self) -> dict:
        """Run the whole matrix; on cancellation (Ctrl-C, the UI's stop) still writes what finished."""
        self.environment = await asyncio.to_thread(environment.gather, self.backend)
        self._writer = RunWriter(self.run_dir, self.run_id)
        per_model = self.planned * len(self.levels)
        self.observer(RunStarted(self.run_id, self.run_dir, tuple(self.models), per_model, self.settings.warmup))
        interrupted = False
        try:
            async with stream_client(max(self.levels), self.settings.keep_alive) as client:
                for name in self.models:
                    await self._run_model(client, name)
                    self._writer.run(self.run_dict())
        except asyncio.CancelledError:
            interrupted = True
            self._not_started()
            raise
        finally:
            run = self.run_dict(finished=True, interrupted=interrupted)
            self._recorder.shutdown(wait=True)
            self._writer.run(run)
            self._writer.close()
            from fl_tui.bench.report import write_reports

            write_reports(self.run_dir, run)
            self.observer(RunFinished(self.run_dir, interrupted, run))
        return run

    @property
    def planned(self) -> int:
        """Measured requests each model is to run at each level (the warm-up not counted); RunStarted says the
        total over the levels."""
        return len(self._jobs())

    @property
    def swept(self) -> bool:
        """Whether load fields go into the records: several levels or paced starts (a plain run looks as before)."""
        return len(self.levels) > 1 or self.rate is not None

    def _jobs(self) -> list[tuple[Prompt, int, float | None]]:
        """(prompt, round, due offset in s or None) for one level: round-major, or cycling the prompts for as
        many requests as a rate puts into --duration."""
        prompts = self.prompt_set.prompts
        if self.rate is None:
            return [(p, r, None) for r in range(1, self.settings.rounds + 1) for p in prompts]
        duration = self.settings.duration_s
        offsets = load.schedule_s(self.rate, count=None if duration else self.settings.rounds * len(prompts),
                                  duration_s=duration, seed=self.schedule_seed)
        return [(prompts[i % len(prompts)], i // len(prompts) + 1, due) for i, due in enumerate(offsets)]

    def _not_started(self) -> None:
        """After a stop, the models the run did not reach are recorded as stopped, so no report omits them."""
        reached = {m.requested_as for m in self.model_results}
        for name in self.models:
            if name not in reached:
                self.model_results.append(ModelResult(
                    model=name, requested_as=name, status=ModelStatus.STOPPED, spec=self._spec(name),
                    error="not started", planned=self.planned, measured_ok=0))

    def run_dict(self, *, finished: bool = False, interrupted: bool = False) -> dict:
        settings = {k: v for k, v in asdict(self.settings).items() if k not in LOAD_KEYS or v}  # plain: as before
        settings["prompt_set"] = self.prompt_set.name
        if self.rate is not None and self.rate.pacing is load.Pacing.POISSON:
            settings["schedule_seed"] = self.schedule_seed  # the Poisson schedule can be recomputed from it
        return {
            "schema": RUN_SCHEMA,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": _now() if finished else None,
            "interrupted": interrupted,
            "endpoint": self.backend.shown_endpoint,
            "backend": self.backend.kind,
            **({"environment": self.environment} if self.environment is not None else {}),
            "settings": settings,
            "percentile_method": PERCENTILE_METHOD,
            "prompts": [p.model_dump() for p in self.prompt_set.prompts],
            "warnings": list(self.warnings),
            "models": [*(self.carried.models if self.carried else []), *(m.to_json() for m in self.model_results)],
            "requests": [*(self.carried.requests if self.carried else []), *(r.to_json() for r in self.requests)],
        }

    # -- one model ----------------------------------------------------------------------------------------

    async def _run_model(self, client: httpx.AsyncClient, name: str) -> None:
        result = ModelResult(model=name, requested_as=name, status=ModelStatus.FAILED, spec=self._spec(name))
        self.model_results.append(result)
        mine: list[RequestResult] = []
        levels: list[tuple[ModelResult, list[RequestResult]]] = [(result, mine)]
        sampler: ResourceSampler | None = None
        entry: ModelEntry | None = None
        loaded_by_us = False
        stopped = False
        try:
            entry = await asyncio.to_thread(self.backend.resolve, name)
            result.model = entry.id
            result.spec = self._spec(name, entry)
            result.disk_mb = entry.disk_bytes / MB if entry.disk_bytes else None
            if self.backend.supports(Capability.CACHED) and not entry.cached:
                raise BackendError(f"{entry.id} is not downloaded; download it first")
            pid = self.backend.host_pid()
            sampler = ResourceSampler(pid).start() if pid else None
            loaded_by_us = not entry.loaded  # one that was loaded before the run stays loaded after it
            await self._load(entry, result, sampler)
            await self._requests(client, name, entry, levels)
        except BackendError as exc:
            result.error = str(exc)  # reported once, by _finish_model
        except asyncio.CancelledError:
            stopped = True
            raise
        finally:
            if sampler is not None:
                sampler.stop()
                for level_result, _ in levels:
                    level_result.rss_peak_mb = sampler.peak_rss_mb
                    level_result.cpu_percent_mean = sampler.cpu_mean
                if sampler.error is not None:  # the figures stop where sampling did
                    self.warnings.append(f"{name}: {sampler.error}")
            if loaded_by_us and entry is not None and self.backend.supports(Capability.UNLOAD):
                await asyncio.shield(self._unload_when_idle(entry.id))
            for level_result, requests in levels:
                self._finish_model(name, level_result, requests, stopped)
            first = result.aggregate_output_tps
            for level_result, _ in levels[1:]:
                rate = level_result.aggregate_output_tps
                level_result.speedup = rate / first if first and rate is not None else None

    async def _unload_when_idle(self, model_id: str, patience_s: float = 10.0) -> None:
        """Leave memory as we found it. After a stop the server may still be finishing the abandoned request
        ("1 session(s) still using it"), so try again for a while; the figures are already taken."""
        deadline = time.monotonic() + patience_s
        while True:
            try:
                await asyncio.to_thread(self.backend.unload, model_id)
                return
            except BackendError as exc:
                if time.monotonic() >= deadline:
                    self.warnings.append(f"{model_id}: unload after the run failed: {exc}")
                    return
            await asyncio.sleep(0.2)

    async def _load(self, entry: ModelEntry, result: ModelResult, sampler: ResourceSampler | None) -> None:
        name = result.requested_as
        if not self.backend.supports(Capability.LOAD):  # a plain OpenAI-compatible server: nothing to load
            return
        if entry.loaded and self.backend.supports(Capability.UNLOAD):  # a cold load needs the model out first
            await asyncio.to_thread(self.backend.unload, entry.id)
        self.observer(ModelPhase(name, Phase.LOADING))
        rss_before = sampler.rss() if sampler else None
        start = time.perf_counter()
        await asyncio.to_thread(self.backend.load, entry.id)
        result.load_s = time.perf_counter() - start
        if sampler is not None and rss_before is not None:
            result.rss_growth_mb = (sampler.rss() - rss_before) / MB

    async def _requests(self, client: httpx.AsyncClient, name: str, entry: ModelEntry, levels: list) -> None:
        first, mine = levels[0]
        warm = Prompt(id="warm-up", prompt=self.settings.warmup_prompt)
        if self.settings.warmup:
            self.observer(ModelPhase(name, Phase.WARMUP))
            for i in range(1, self.settings.warmup + 1):
                await self._one(client, name, entry, warm, i, True, mine, time.perf_counter_ns(), None)
        self.observer(ModelPhase(name, Phase.RUNNING))
        for index, level in enumerate(self.levels):
            if index:
                result = ModelResult(model=first.model, requested_as=name, status=ModelStatus.FAILED,
                                     spec=first.spec, disk_mb=first.disk_mb)
                self.model_results.append(result)
                mine = []
                levels.append((result, mine))
            levels[-1][0].concurrency = level if len(self.levels) > 1 else None
            levels[-1][0].rate = str(self.rate) if self.rate else None
            await self._level(client, name, entry, level, mine)

    async def _level(self, client: httpx.AsyncClient, name: str, entry: ModelEntry, level: int, mine: list) -> None:
        """One level's measured requests. Sequential at 1 without a rate; otherwise each request is due at its
        scheduled instant (all at once without a rate) and waits for one of `level` slots: from due to t0 is
        queue time, kept apart, so a slow server cannot hide its backlog (no coordinated omission)."""
        tag = level if len(self.levels) > 1 else None
        jobs = self._jobs()
        if level <= 1 and self.rate is None:
            for prompt, rnd, _ in jobs:
                await self._one(client, name, entry, prompt, rnd, False, mine, time.perf_counter_ns(), tag)
            return
        slots = asyncio.Semaphore(level)
        begin = time.perf_counter_ns()

        async def job(prompt: Prompt, rnd: int, due_ns: int) -> None:
            if (wait_ns := due_ns - time.perf_counter_ns()) > 0:
                await asyncio.sleep(wait_ns / 1e9)
            async with slots:
                await self._one(client, name, entry, prompt, rnd, False, mine, due_ns, tag)

        with prompt_switches():  # the recorder thread parses next to streams in flight (see bench.gil)
            async with asyncio.TaskGroup() as group:
                for prompt, rnd, due in jobs:
                    group.create_task(job(prompt, rnd, begin + round((due or 0.0) * 1e9)))

    async def _one(self, client, name, entry, prompt: Prompt, rnd: int, warmup: bool, mine: list, scheduled_ns: int,
                   level: int | None):
        live = LiveRequest(name, prompt.id, prompt.prompt, rnd, warmup)
        self.observer(RequestStarted(live))
        body = chat_body(
            entry.id,
            prompt.prompt,
            max_tokens=prompt.max_tokens or self.settings.max_tokens,
            temperature=self.settings.temperature,
            seed=self.settings.seed,
        )
        started_at = _now()
        queue_ms = (time.perf_counter_ns() - scheduled_ns) / 1e6
        rec = await stream_chat(
            client, self.backend.inference_url, body, timeout_s=self.settings.timeout_s,
            on_event=self.on_chunk or live.events.append,
        )
        kind = "w" if warmup else "r"
        timed = not warmup and (self.rate is not None or max(self.levels) > 1)
        fields = dict(
            id=f"{entry.id}|{prompt.id}|{kind}{rnd}" + (f"|c{level}" if level and not warmup else ""),
            model=entry.id,
            prompt_id=prompt.id,
            round=rnd,
            warmup=warmup,
            run_start_ns=self._run_start_ns,
            queue_ms=queue_ms if timed else None,
            started_at=started_at,
        )
        extra = {"scheduled_ms": (scheduled_ns - self._run_start_ns) / 1e6 if timed and self.swept else None,
                 "concurrency": None if warmup else level, "due_ns": scheduled_ns}
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._recorder, self._record, rec, fields, extra, mine)
        self.observer(RequestFinished(name, result))

    def _record(self, rec, fields: dict, extra: dict, mine: list) -> RequestResult:
        """On the recorder thread: parse the stamped stream and append its line, in the order they finished."""
        result = request_result(rec, **fields)
        result.scheduled_ms, result.concurrency = extra["scheduled_ms"], extra["concurrency"]
        if result.queue_ms is not None and result.start_ms is not None:  # due -> t0 exactly: due + queue = t0
            result.queue_ms = result.start_ms - (extra["due_ns"] - self._run_start_ns) / 1e6
        mine.append(result)
        self.requests.append(result)
        self._writer.request(result)
        return result

    def _finish_model(self, name: str, result: ModelResult, mine: list[RequestResult], stopped: bool) -> None:
        if mine:
            result.summary = stats.model_summary(mine)
            result.aggregate_output_tps, result.requests_per_s = stats.aggregate_rates(
                [r for r in mine if not r.warmup]
            )
            if self.settings.temperature == 0:
                result.deterministic, result.nondeterministic_prompts = stats.determinism(mine)
            result.energy_wh_per_1k_tokens = self._energy(mine)
            if self.settings.slo:
                measured = [r.to_json() for r in mine if not r.warmup]
                span = result.requests_per_s and len(stats.measured_ok(measured)) / result.requests_per_s
                result.slo_fraction, result.goodput_rps = load.goodput(measured, self.settings.slo, span)
        load_error = result.error if result.load_s is None and result.error else None
        result.planned, result.measured_ok = self.planned, len(stats.measured_ok(mine))
        result.status, reason = stats.model_status(mine, load_error, self.planned, stopped)
        result.error = result.error or reason
        phase = Phase.DONE if result.status is ModelStatus.OK else Phase(result.status)
        self.observer(ModelPhase(name, phase, result.error))
        self.observer(ModelFinished(name, result))

    def _energy(self, mine: list[RequestResult]) -> float | None:
        """Watts x the time the model was busy answering, per 1,000 output tokens (an estimate, not a meter)."""
        measured = [r for r in mine if not r.warmup and r.status == "ok" and r.e2e_ms and r.start_ms is not None]
        tokens = sum(r.output_tokens or 0 for r in measured)
        if not (self.settings.watts and measured and tokens):
            return None
        busy_s = (max(r.start_ms + r.e2e_ms for r in measured) - min(r.start_ms for r in measured)) / 1000
        return self.settings.watts * busy_s / 3600 / (tokens / 1000)

    def _spec(self, name: str, entry: ModelEntry | None = None) -> dict:
        for key in (entry.id if entry else None, name, entry.alias if entry else None):
            if key and key in self.specs:
                spec = self.specs[key]
                return spec.model_dump() if hasattr(spec, "model_dump") else dict(spec)
        return {}

