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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from fl_tui.bench import stats
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
from fl_tui.bench.metrics import request_result
from fl_tui.bench.records import PERCENTILE_METHOD, RUN_SCHEMA, ModelResult, ModelStatus, RequestResult
from fl_tui.bench.resume import Carried
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
    concurrency: int = 1
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
        self._writer: RunWriter | None = None

    # -- the run ------------------------------------------------------------------------------------------

    async def run(self) -> dict:
        """Run the whole matrix; on cancellation (Ctrl-C, the UI's stop) still writes what finished."""
        self._writer = RunWriter(self.run_dir, self.run_id)
        self.observer(RunStarted(self.run_id, self.run_dir, tuple(self.models), self.planned, self.settings.warmup))
        interrupted = False
        try:
            async with stream_client(self.settings.concurrency, self.settings.keep_alive) as client:
                for name in self.models:
                    await self._run_model(client, name)
                    self._writer.run(self.run_dict())
        except asyncio.CancelledError:
            interrupted = True
            self._not_started()
            raise
        finally:
            run = self.run_dict(finished=True, interrupted=interrupted)
            self._writer.run(run)
            self._writer.close()
            from fl_tui.bench.report import write_reports

            write_reports(self.run_dir, run)
            self.observer(RunFinished(self.run_dir, interrupted, run))
        return run

    @property
    def planned(self) -> int:
        """Measured requests each model is to run (the warm-up not counted)."""
        return self.settings.rounds * len(self.prompt_set.prompts)

    def _not_started(self) -> None:
        """After a stop, the models the run did not reach are recorded as stopped, so no report omits them."""
        reached = {m.requested_as for m in self.model_results}
        for name in self.models:
            if name not in reached:
                self.model_results.append(ModelResult(
                    model=name, requested_as=name, status=ModelStatus.STOPPED, spec=self._spec(name),
                    error="not started", planned=self.planned, measured_ok=0))

    def run_dict(self, *, finished: bool = False, interrupted: bool = False) -> dict:
        settings = asdict(self.settings)
        settings["prompt_set"] = self.prompt_set.name
        return {
            "schema": RUN_SCHEMA,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": _now() if finished else None,
            "interrupted": interrupted,
            "endpoint": self.backend.shown_endpoint,
            "backend": self.backend.kind,
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
            await self._requests(client, name, entry, mine)
        except BackendError as exc:
            result.error = str(exc)  # reported once, by _finish_model
        except asyncio.CancelledError:
            stopped = True
            raise
        finally:
            if sampler is not None:
                sampler.stop()
                result.rss_peak_mb = sampler.peak_rss_mb
                result.cpu_percent_mean = sampler.cpu_mean
                if sampler.error is not None:  # the figures stop where sampling did
                    self.warnings.append(f"{name}: {sampler.error}")
            if loaded_by_us and entry is not None and self.backend.supports(Capability.UNLOAD):
                await asyncio.shield(self._unload_when_idle(entry.id))
            self._finish_model(name, result, mine, stopped)

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

    async def _requests(self, client: httpx.AsyncClient, name: str, entry: ModelEntry, mine: list) -> None:
        warm = Prompt(id="warm-up", prompt=self.settings.warmup_prompt)
        if self.settings.warmup:
            self.observer(ModelPhase(name, Phase.WARMUP))
            for i in range(1, self.settings.warmup + 1):
                await self._one(client, name, entry, warm, i, True, mine, time.perf_counter_ns())
        self.observer(ModelPhase(name, Phase.RUNNING))
        jobs = [(p, r) for r in range(1, self.settings.rounds + 1) for p in self.prompt_set.prompts]
        if self.settings.concurrency <= 1:
            for prompt, rnd in jobs:
                await self._one(client, name, entry, prompt, rnd, False, mine, time.perf_counter_ns())
            return
        slots = asyncio.Semaphore(self.settings.concurrency)

        async def job(prompt: Prompt, rnd: int, scheduled_ns: int) -> None:
            async with slots:
                await self._one(client, name, entry, prompt, rnd, False, mine, scheduled_ns)

        scheduled = time.perf_counter_ns()  # every request is due now; waiting for a slot is queue time
        async with asyncio.TaskGroup() as group:
            for prompt, rnd in jobs:
                group.create_task(job(prompt, rnd, scheduled))

    async def _one(self, client, name, entry, prompt: Prompt, rnd: int, warmup: bool, mine: list, scheduled_ns: int):
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
        result = request_result(
            rec,
            id=f"{entry.id}|{prompt.id}|{kind}{rnd}",
            model=entry.id,
            prompt_id=prompt.id,
            round=rnd,
            warmup=warmup,
            run_start_ns=self._run_start_ns,
            queue_ms=queue_ms if self.settings.concurrency > 1 else None,
            started_at=started_at,
        )
        mine.append(result)
        self.requests.append(result)
        self._writer.request(result)
        self.observer(RequestFinished(name, result))

    def _finish_model(self, name: str, result: ModelResult, mine: list[RequestResult], stopped: bool) -> None:
        if mine:
            result.summary = stats.model_summary(mine)
            result.aggregate_output_tps, result.requests_per_s = stats.aggregate_rates(
                [r for r in mine if not r.warmup]
            )
            if self.settings.temperature == 0:
                result.deterministic, result.nondeterministic_prompts = stats.determinism(mine)
            result.energy_wh_per_1k_tokens = self._energy(mine)
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

