"""The benchmark engine: models x prompts x rounds over one streaming HTTP path, measured as docs/metrics.md
says ("How the figures are measured").

Headless (`fl-tui bench`) and the Benchmark tab run this same coroutine. It reports progress through an
observer callback (called on the engine's loop: keep it cheap, e.g. append to a queue): each request sent is a
`RequestStarted` naming it by key, and, when a chunk sink is given, its bytes follow as `Chunk` events with that
key, so a UI can draw each request in flight on its own clock.

Per model: resolve, load (timed apart from any request, with the RSS it adds), warm up with a prompt that is
not in the measured set (so no measured prompt sits in a prefix cache before its first round), then the
measured rounds, round-major (every prompt once, then again) so slow drift spreads over all prompts. A failure
is recorded and the matrix goes on; there are no retries.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from fl_tui.bench import environment, load, prefill, stats
from fl_tui.bench.checks import checks_summary, request_checks
from fl_tui.bench.endpoints import short
from fl_tui.bench.events import (
    Chunk,
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
from fl_tui.bench.records import (
    PERCENTILE_METHOD,
    REQUEST_FIELDS,
    RUN_SCHEMA,
    ModelResult,
    ModelStatus,
    RequestResult,
)
from fl_tui.bench.resume import LOAD_KEYS, Carried
from fl_tui.bench.runschema import RunJson, as_run
from fl_tui.bench.runwriter import RunWriter
from fl_tui.bench.sampler import MB, ResourceSampler
from fl_tui.connection.base import Backend, BackendError, Capability, ModelEntry
from fl_tui.connection.chat import chat_body, stream_chat, stream_client
from fl_tui.core.errors import UserError
from fl_tui.core.prompts import Prompt, PromptSet
from fl_tui.core.redact import redact_text

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
    prompt_tokens: tuple[int, ...] = ()  # --prompt-tokens 128,1024: the matrix once per level and prompt length
    timeout_s: float = 120.0
    watts: float | None = None
    keep_alive: bool = False  # see connection.chat.stream_client: reuse costs ~40 ms of TTFT on Foundry Local
    warmup_prompt: str = WARMUP_PROMPT
    models_asked: tuple[str, ...] = ()  # --models as given ((): the default set): --resume refuses another list


@dataclass(frozen=True)
class Target:
    """An endpoint after the first in a run against several. `open` connects and says which models to run there;
    it blocks, so the engine calls it on a thread, when that endpoint's turn comes (one endpoint at a time: the
    boxes never share a moment of load), and closes the backend once its models are done."""

    endpoint: str  # as shown: credentials masked
    open: Callable[[], tuple[Backend, list[str]]]
    models: tuple[str, ...] = ()  # the models known before connecting (--models), for the progress display


def context_problem(context: int | None, answer_tokens: int, prompt_tokens: tuple[int, ...] = ()) -> str | None:
    """Why no request of a run fits a model whose context is `context` tokens (None: not known, so the server
    decides), or None. `answer_tokens`: the smallest answer budget of the run's prompts (a prompt's own
    max_tokens, else the run's); `prompt_tokens`: the --prompt-tokens lengths. A prompt and its answer share the
    context, and a prompt has at least one token (a --prompt-tokens length, at least that many), so when even the
    shortest request overflows, the server would refuse them all: the model fails at once, in one line."""
    if context is None:
        return None
    prompt = min(prompt_tokens, default=1)
    if prompt + answer_tokens <= context:
        return None
    room = context - prompt
    prompts = f" and prompts of {prompt:,} tokens" if prompt_tokens else " and a prompt"
    fits = f"at most {room:,} answer tokens fit" if room > 0 else "no answer fits"
    return f"max tokens {answer_tokens:,}{prompts} do not fit the model's context of {context:,} tokens: {fits}"


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
        on_chunk: Callable[[Chunk], None] | None = None,
        run_id: str | None = None,
        carried: Carried | None = None,
        more: Sequence[Target] = (),
    ):
        """`observer` gets the events of fl_tui.bench.events; `on_chunk`, when given, gets a Chunk for each stamped
        SSE event of every request in flight (the `--events` wire forwards them; without it they are not kept).
        `carried`: what an earlier attempt at this run finished (--resume); it goes into run.json as it was.
        `more`: endpoints to run after `backend`'s models, each in turn; every record then names its endpoint,
        and the events name each model with its endpoint's short name (`qwen @ box:5273`)."""
        if not models and not more:
            raise ValueError("no models to benchmark")
        self.backend = backend  # the endpoint whose turn it is
        self.models = models
        self.more = tuple(more)
        self.endpoint: str | None = backend.shown_endpoint if more else None  # set in records when several
        self.endpoint_records: list[dict] = []  # run.json `endpoints`, in a run against several
        self._turn = 0  # how many of `more` have had their turn begin
        # Asked when a stop ends a model's turn at the first endpoint: True leaves the model it loaded loaded, as
        # when the app that runs it quits and its in-process runtime goes too (fl_tui.bench.child.app_quitting).
        self.leave_loaded: Callable[[], bool] = lambda: False
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
        self.finished: RunJson | None = None  # the run's typed record, once run() has written it
        self.started_at = carried.started_at if carried else _now()
        self._run_start_ns = time.perf_counter_ns()
        self.environment: dict | None = None  # gathered when the run starts (environment.gather)
        self._writer: RunWriter | None = None
        # Parsing a finished stream and writing its line happen here, off the loop that stamps the others
        self._recorder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fl-tui-record")
        self.levels = settings.levels or (settings.concurrency,)
        self.lengths: tuple[int | None, ...] = settings.prompt_tokens or (None,)  # None: the set's prompts as they are
        self._asked = {p.id: p.prompt for p in prompt_set.prompts}  # what the live view shows of a long prompt
        self.rate = load.parse_rate(settings.rate) if settings.rate else None
        kept = carried.schedule_seed if carried else None
        self._earlier = {r["id"]: r for r in carried.earlier} if carried else {}  # answered before: not sent again
        self._reused: set[str] = set()
        self.schedule_seed = next(s for s in (settings.seed, kept, secrets.randbelow(2**31)) if s is not None)

    # -- the run ------------------------------------------------------------------------------------------

    async def run(self) -> dict:
        """Run the whole matrix; on cancellation (Ctrl-C, the UI's stop) still writes what finished."""
        self.environment = await asyncio.to_thread(environment.gather, self.backend)
        self._note_endpoint(self.environment)
        self._writer = RunWriter(self.run_dir, self.run_id)
        # written now, not only as each model finishes: a run killed before its first model finished still has
        # its settings and prompts on disk, so --resume can check them and continue it
        self._writer.run(self.run_dict())
        per_model = self.planned * len(self.levels) * len(self.lengths)
        known = [self._shown(m) for m in self.models]
        known += [self._shown(m, target.endpoint) for target in self.more for m in target.models]
        self.observer(RunStarted(self.run_id, self.run_dir, tuple(known), per_model, self.settings.warmup))
        interrupted = False
        try:
            async with stream_client(max(self.levels), self.settings.keep_alive) as client:
                await self._run_models(client)
                for turn, target in enumerate(self.more, 1):
                    self._turn = turn
                    await self._run_target(client, target)
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

            # what the reports, the UI and `fl-tui bench` read: the run.json just written, as read_run gives it
            record = self.finished = as_run(run)
            write_reports(self.run_dir, record)
            self.observer(RunFinished(self.run_dir, interrupted, record))
        return run

    async def _run_models(self, client: httpx.AsyncClient) -> None:
        for name in self.models:
            await self._run_model(client, name)
            self._writer.run(self.run_dict())

    async def _run_target(self, client: httpx.AsyncClient, target: Target) -> None:
        """The next endpoint's turn: connect, run its models, close. One that cannot be reached is recorded with
        its error (in `endpoints` and the warnings) and the run goes on to the next."""
        self.endpoint, self.models = target.endpoint, list(target.models)
        try:
            self.backend, self.models = await asyncio.to_thread(target.open)
        except (UserError, BackendError, OSError) as exc:
            reason = redact_text(str(exc))
            self.endpoint_records.append({"endpoint": target.endpoint, "error": reason})
            self.warnings.append(f"{target.endpoint}: not benchmarked: {reason}")
            for name in self.models:  # each of its models failed, where every view and report lists models
                why = f"not benchmarked: {reason}"
                self.model_results.append(ModelResult(
                    model=name, requested_as=name, status=ModelStatus.FAILED, spec=self._spec(name),
                    endpoint=self.endpoint, error=why, planned=self.planned, measured_ok=0))
                self.observer(ModelPhase(self._shown(name), Phase.FAILED, why))
            self.models = []
            self._writer.run(self.run_dict())
            return
        try:
            self._note_endpoint(await asyncio.to_thread(environment.gather, self.backend))
            await self._run_models(client)
        finally:
            await asyncio.shield(asyncio.to_thread(self.backend.close))

    def _note_endpoint(self, env: dict) -> None:
        if self.more:
            self.endpoint_records.append({"endpoint": self.endpoint, "backend": self.backend.kind, "environment": env})

    def _shown(self, name: str, endpoint: str | None = None) -> str:
        """A model as the events name it: with its endpoint's short name in a run against several."""
        endpoint = endpoint or self.endpoint
        return f"{name} @ {short(endpoint)}" if self.more and endpoint else name

    @property
    def failed_endpoints(self) -> list[str]:
        return [e["endpoint"] for e in self.endpoint_records if e.get("error")]

    @property
    def planned(self) -> int:
        """Measured requests each model is to run at each level (the warm-up not counted); RunStarted says the
        total over the levels."""
        return len(self._jobs())

    @property
    def swept(self) -> bool:
        """Whether load fields go into the records: several levels, paced starts or prompt lengths (a plain run
        looks as before)."""
        return len(self.levels) > 1 or self.rate is not None or bool(self.settings.prompt_tokens)

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
        """After a stop, the models the run did not reach are recorded as stopped, so no report omits them (a later
        endpoint's too, where its models were known before connecting)."""
        reached = {(m.endpoint, m.requested_as) for m in self.model_results}
        later = [(t.endpoint, t.models) for t in self.more[self._turn:]]
        for endpoint, names in [(self.endpoint, self.models), *later]:
            for name in names:
                if (endpoint, name) not in reached:
                    reached.add((endpoint, name))
                    self.model_results.append(ModelResult(
                        model=name, requested_as=name, status=ModelStatus.STOPPED, spec=self._spec(name),
                        endpoint=endpoint, error="not started", planned=self.planned, measured_ok=0))

    def run_dict(self, *, finished: bool = False, interrupted: bool = False) -> dict:
        # plain: as before; tuples as the lists run.json reads back, so a report renders the same from either
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.settings).items()
                    if k not in LOAD_KEYS or v}
        settings["prompt_set"] = self.prompt_set.name
        if self.rate is not None and self.rate.pacing is load.Pacing.POISSON:
            settings["schedule_seed"] = self.schedule_seed  # the Poisson schedule can be recomputed from it
        return {
            "schema": RUN_SCHEMA,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": _now() if finished else None,
            "interrupted": interrupted,
            "endpoint": self.endpoint_records[0]["endpoint"] if self.more else self.backend.shown_endpoint,
            "backend": self.endpoint_records[0]["backend"] if self.more else self.backend.kind,
            **({"environment": self.environment} if self.environment is not None else {}),
            **({"endpoints": list(self.endpoint_records)} if self.more else {}),
            "settings": settings,
            "percentile_method": PERCENTILE_METHOD,
            "prompts": [p.model_dump() for p in self.prompt_set.prompts],
            "warnings": list(self.warnings),
            "models": [*(self.carried.models if self.carried else []), *(m.to_json() for m in self.model_results)],
            "requests": [*(self.carried.requests if self.carried else []), *(r.to_json() for r in self.requests)],
        }

    # -- one model ----------------------------------------------------------------------------------------

    async def _run_model(self, client: httpx.AsyncClient, name: str) -> None:
        result = ModelResult(model=name, requested_as=name, status=ModelStatus.FAILED, spec=self._spec(name),
                             endpoint=self.endpoint)
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
            context = await asyncio.to_thread(self.backend.context_length, entry)
            answer = min((p.max_tokens or self.settings.max_tokens for p in self.prompt_set.prompts),
                         default=self.settings.max_tokens)
            too_long = context_problem(context, answer, self.settings.prompt_tokens)
            if too_long is not None:  # every request would be refused: none is sent, nothing is loaded
                raise BackendError(too_long)
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
            if loaded_by_us and entry is not None and self.backend.supports(Capability.UNLOAD) and not (
                    stopped and self._turn == 0 and self.leave_loaded()):
                await asyncio.shield(self._unload_when_idle(entry.id))
            for level_result, requests in levels:
                self._finish_model(name, level_result, requests, stopped)
            _speedups([level_result for level_result, _ in levels])

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
        self.observer(ModelPhase(self._shown(name), Phase.LOADING))
        rss_before = sampler.rss() if sampler else None
        start = time.perf_counter()
        await asyncio.to_thread(self.backend.load, entry.id)
        result.load_s = time.perf_counter() - start
        if sampler is not None and rss_before is not None:
            result.rss_growth_mb = (sampler.rss() - rss_before) / MB

    async def _requests(self, client: httpx.AsyncClient, name: str, entry: ModelEntry, levels: list) -> None:
        """Warm-up, sizing of the long prompts, then one ModelResult per (level, prompt length), level-major."""
        first, mine = levels[0]
        warm = Prompt(id="warm-up", prompt=self.settings.warmup_prompt)
        if self.settings.warmup:
            self.observer(ModelPhase(self._shown(name), Phase.WARMUP))
            for i in range(1, self.settings.warmup + 1):
                await self._one(client, name, entry, warm, i, True, mine, time.perf_counter_ns(), None)
        sized: dict[int | None, dict[str, Prompt]] = {None: {}}
        ratio = prefill.TOKENS_PER_WORD
        # shortest first: a length the server refuses to count is sized by the count of the one before it
        for target in sorted(t for t in self.lengths if t is not None):
            sized[target], ratio = await self._sized(client, name, entry, target, ratio)
        self.observer(ModelPhase(self._shown(name), Phase.RUNNING))
        for index, (level, target) in enumerate((lv, t) for lv in self.levels for t in self.lengths):
            if index:
                result = ModelResult(model=first.model, requested_as=name, status=ModelStatus.FAILED,
                                     spec=first.spec, disk_mb=first.disk_mb, endpoint=self.endpoint)
                self.model_results.append(result)
                mine = []
                levels.append((result, mine))
            levels[-1][0].concurrency = level if len(self.levels) > 1 else None
            levels[-1][0].rate = str(self.rate) if self.rate else None
            levels[-1][0].prompt_tokens = target
            await self._level(client, name, entry, level, mine, target, sized[target])

    async def _sized(self, client: httpx.AsyncClient, name: str, entry: ModelEntry, target: int,
                     guess: float) -> tuple[dict[str, Prompt], float]:
        """The set's prompts (by id) with a context of about `target` tokens in front (prefill.py), and the tokens
        per word they were sized at: the server's count of one unmeasured request (max_tokens 1), or `guess`
        when it gave none (a context-length refusal: then the measured requests record it too)."""
        probe = prefill.build(self.settings.warmup_prompt, prefill.CALIBRATION_KEY, target, guess)
        body = chat_body(entry.id, probe, max_tokens=1, temperature=self.settings.temperature, seed=self.settings.seed)
        rec = await stream_chat(client, self.backend.inference_url, body, timeout_s=self.settings.timeout_s)
        probed = request_result(rec, id=f"{entry.id}|calibration|t{target}", model=entry.id, prompt_id="calibration",
                                round=1, warmup=True, run_start_ns=self._run_start_ns)
        counted = probed.prompt_tokens if probed.status == "ok" else None
        if counted is None:
            why = probed.error or "the answer had no usage"
            self.warnings.append(f"{name}: no usage.prompt_tokens for a {target}-token prompt ({why}); its prompts "
                                 f"are sized at {guess:.2f} tokens a word")
        ratio = prefill.rescaled(probe, counted, guess)
        return {p.id: p.model_copy(update={"prompt": prefill.build(p.prompt, f"{p.id}|{target}", target, ratio)})
                for p in self.prompt_set.prompts}, ratio

    async def _level(self, client: httpx.AsyncClient, name: str, entry: ModelEntry, level: int, mine: list,
                     target: int | None = None, sized: dict[str, Prompt] | None = None) -> None:
        """One level's measured requests. Sequential at 1 without a rate; otherwise each request is due at its
        scheduled instant (all at once without a rate) and waits for one of `level` slots: from due to t0 is
        queue time, kept apart, so a slow server cannot hide its backlog (no coordinated omission). `sized`:
        the long prompts for `target` by prompt id."""
        tag = level if len(self.levels) > 1 else None
        sized = sized or {}
        jobs = [(sized.get(p.id, p), rnd, due) for p, rnd, due in self._jobs()]
        if level <= 1 and self.rate is None:
            for prompt, rnd, _ in jobs:
                if not self._reuse(name, self._request_id(entry, prompt, rnd, False, tag, target), mine):
                    await self._one(client, name, entry, prompt, rnd, False, mine, time.perf_counter_ns(), tag,
                                    target)
            return
        slots = asyncio.Semaphore(level)
        begin = time.perf_counter_ns()

        async def job(prompt: Prompt, rnd: int, due_ns: int) -> None:
            # asyncio's timers run on time.monotonic(), whose ticks are ~16 ms on Windows: a sleep can end before
            # the due instant on perf_counter's clock, so it is slept again until that clock has passed it
            while (wait_ns := due_ns - time.perf_counter_ns()) > 0:
                await asyncio.sleep(wait_ns / 1e9)
            async with slots:
                await self._one(client, name, entry, prompt, rnd, False, mine, due_ns, tag, target)

        with prompt_switches():  # the recorder thread parses next to streams in flight (see bench.gil)
            async with asyncio.TaskGroup() as group:
                for prompt, rnd, due in jobs:
                    group.create_task(job(prompt, rnd, begin + round((due or 0.0) * 1e9)))

    async def _one(self, client, name, entry, prompt: Prompt, rnd: int, warmup: bool, mine: list, scheduled_ns: int,
                   level: int | None, target: int | None = None):
        shown = f"[~{target}-token context] {self._asked[prompt.id]}" if target else prompt.prompt  # not 4096 tokens
        key = self._request_id(entry, prompt, rnd, warmup, level, target)
        self.observer(RequestStarted(LiveRequest(self._shown(name), prompt.id, shown, rnd, warmup, key)))
        sink = self.on_chunk
        on_event = None if sink is None else lambda event: sink(Chunk(key, event))
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
            on_event=on_event,
        )
        timed = not warmup and (self.rate is not None or max(self.levels) > 1)
        fields = dict(
            id=key,
            model=entry.id,
            prompt_id=prompt.id,
            round=rnd,
            warmup=warmup,
            run_start_ns=self._run_start_ns,
            queue_ms=queue_ms if timed else None,
            started_at=started_at,
        )
        extra = {"scheduled_ms": (scheduled_ns - self._run_start_ns) / 1e6 if timed and self.swept else None,
                 "concurrency": None if warmup else level, "due_ns": scheduled_ns, "endpoint": self.endpoint,
                 "prompt_target": target, "checks": prompt.checks}
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._recorder, self._record, rec, fields, extra, mine)
        self.observer(RequestFinished(self._shown(name), result))

    def _request_id(self, entry: ModelEntry, prompt: Prompt, rnd: int, warmup: bool, level: int | None,
                    target: int | None) -> str:
        """The same request has the same id in every attempt at a run (what --resume matches on)."""
        kind = "w" if warmup else "r"
        return ((f"{self.endpoint}|" if self.more else "") + f"{entry.id}|{prompt.id}|{kind}{rnd}"
                + (f"|c{level}" if level and not warmup else "") + (f"|t{target}" if target else ""))

    def _reuse(self, name: str, request_id: str, mine: list) -> bool:
        """A request an earlier attempt at this run answered alone is taken as it was (its line is already in
        requests.jsonl) instead of being sent again."""
        record = self._earlier.pop(request_id, None)
        if record is None:
            return False
        result = RequestResult(**{k: v for k, v in record.items() if k in REQUEST_FIELDS})
        self._reused.add(request_id)
        mine.append(result)
        self.requests.append(result)
        self.observer(RequestFinished(self._shown(name), result))
        return True

    def _record(self, rec, fields: dict, extra: dict, mine: list) -> RequestResult:
        """On the recorder thread: parse the stamped stream, check its answer and append its line, in the order they
        finished."""
        result = request_result(rec, **fields)
        result.scheduled_ms, result.concurrency = extra["scheduled_ms"], extra["concurrency"]
        result.endpoint, result.prompt_target = extra["endpoint"], extra["prompt_target"]
        if result.queue_ms is not None and result.start_ms is not None:  # due -> t0 exactly: due + queue = t0
            result.queue_ms = result.start_ms - (extra["due_ns"] - self._run_start_ns) / 1e6
        result.checks = request_checks(extra["checks"], result)
        mine.append(result)
        self.requests.append(result)
        self._writer.request(result)
        return result

    def _finish_model(self, name: str, result: ModelResult, mine: list[RequestResult], stopped: bool) -> None:
        # rates over time need one clock: they count this attempt's requests, not those reused from an earlier one
        this_attempt = [r for r in mine if r.id not in self._reused]
        result.resumed = (len(mine) - len(this_attempt)) or None
        if result.resumed:
            self.warnings.append(f"{name}: {result.resumed} measured request(s) kept from an earlier attempt at this "
                                 "run (--resume); its rates over time count this attempt's requests only")
        if mine:
            result.summary = stats.model_summary(mine)
            result.prompt_tokens_mean = result.summary["prompt_tokens"]["mean"]
            result.aggregate_output_tps, result.requests_per_s = stats.aggregate_rates(
                [r for r in this_attempt if not r.warmup]
            )
            if self.settings.temperature == 0:
                result.deterministic, result.nondeterministic_prompts = stats.determinism(mine)
            result.energy_wh_per_1k_tokens = self._energy(this_attempt)
            result.checks = checks_summary(mine)
            if self.settings.slo:  # the share meeting them over every request; per second over one clock's
                timed = [r.to_json() for r in this_attempt if not r.warmup]
                span = result.requests_per_s and len(stats.measured_ok(timed)) / result.requests_per_s
                result.slo_fraction, _ = load.goodput([r.to_json() for r in mine if not r.warmup], self.settings.slo,
                                                      None)
                result.goodput_rps = load.goodput(timed, self.settings.slo, span)[1] if timed else None
        load_error = result.error if result.load_s is None and result.error else None
        result.planned, result.measured_ok = self.planned, len(stats.measured_ok(mine))
        result.status, reason = stats.model_status(mine, load_error, self.planned, stopped)
        result.error = result.error or reason
        phase = Phase.DONE if result.status is ModelStatus.OK else Phase(result.status)
        self.observer(ModelPhase(self._shown(name), phase, result.error))
        self.observer(ModelFinished(self._shown(name), result))

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
                return spec.fields() if hasattr(spec, "fields") else dict(spec)  # a ModelSpec, or a plain dict
        return {}


def _speedups(results: list[ModelResult]) -> None:
    """Aggregate output tok/s over that of the first level at the same prompt length, for the levels after it."""
    first: dict[int | None, float | None] = {}
    for result in results:
        if result.prompt_tokens not in first:
            first[result.prompt_tokens] = result.aggregate_output_tps
            continue
        base, rate = first[result.prompt_tokens], result.aggregate_output_tps
        result.speedup = rate / base if base and rate is not None else None
