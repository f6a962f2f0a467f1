"""A second model scores a run's answers with the same rubric a person uses (`fl-tui judge RUN --model NAME`).

Each answer is sent with the scale, the question, the expected aspects and the answer, and the reply must be ONLY a
JSON object `{"scores": {aspect: 1-5}, "overall": 1-5}` (a single ```json fence around it is tolerated). The reply
is parsed strictly: exactly the item's aspects as keys, whole numbers 1..5, nothing else. An unusable reply (or a
failed request) is retried up to twice, the request then saying what was wrong with the last reply (the context
stays the same size); the attempts are counted per item and in total. An item without a usable reply stays unscored,
with the reason in its note.

The scores go to the judge's own file, rater `model:<id>` (`annotations.model-<slug>.json`), saved after every item;
a second `fl-tui judge` run takes up the unscored items. Judged and person-made scores never share a file.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fl_tui.annotate.rubric import LEVELS, Rubric, quoted, rubric_for_run, scale_text
from fl_tui.annotate.session import build_items, now_iso
from fl_tui.annotate.store import (
    JUDGE_PREFIX,
    AnnotationFile,
    AnnotationItem,
    JudgeInfo,
    annotation_path,
    is_scored,
    load_annotations,
    new_file,
    save,
)
from fl_tui.bench.metrics import one_line, request_result
from fl_tui.bench.runfiles import read_run, run_dir_of
from fl_tui.bench.runschema import RunJson
from fl_tui.connection.chat import chat_body, stream_chat
from fl_tui.core.defaults import JUDGE_MAX_TOKENS
from fl_tui.core.errors import FileProblem, UserError

ATTEMPTS = 3  # the first reply and up to two retries

SYSTEM = (
    "You are a strict, fair grader of answers written by language models. You reply with one JSON object and "
    "nothing else: no prose, no explanation, no Markdown."
)

_FENCE = re.compile(r"\A```(?:json)?[ \t]*\n?(.*?)\n?[ \t]*```\Z", re.DOTALL | re.IGNORECASE)


class ReplyProblem(ValueError):
    """A judge's reply that is not the demanded JSON object; the message says what is wrong, in one line."""


def judge_rater(model_id: str) -> str:
    return f"{JUDGE_PREFIX}{model_id}"


def judge_prompt(rubric: Rubric, question: str, aspects: tuple[str, ...], answer: str) -> str:
    """The request for one answer: scale, question, aspects, answer, and the exact reply format."""
    parts = [
        "Score the ANSWER to the QUESTION on this scale:",
        scale_text(rubric),
        "",
        "QUESTION:",
        question,
        "",
    ]
    parts += ["ANSWER:", answer if answer.strip() else "(empty)", "", _format_demand(aspects)]
    return "\n".join(parts)


def _format_demand(aspects: tuple[str, ...]) -> str:
    """The reply template; its "scores" keys are the expected aspects, each scored for how well the answer covers
    it (they are listed once, here, to keep the request short for small context windows)."""
    scores = ", ".join(f"{quoted(a)}: <1-5>" for a in aspects)
    template = f'{{"scores": {{{scores}}}, "overall": <1-5>}}'
    if aspects:
        what = ('"scores" has the EXPECTED ASPECTS of a good answer as keys, exactly as written: score how well the '
                'answer covers each; "overall" scores the whole answer')
    else:
        what = '"scores" stays empty (no aspects are listed); "overall" scores the whole answer'
    return f"Reply with ONLY this JSON object, every score a whole number from 1 to 5; {what}:\n{template}"


def _refuse_constant(name: str) -> None:
    raise ReplyProblem(f"{name} is not a score")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise ReplyProblem(f"key {quoted(key)[:60]} appears twice")
        out[key] = value
    return out


def _score(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise ReplyProblem(f"{what} must be a whole number from 1 to 5, not {json.dumps(value)[:40]}")
    return value


def parse_reply(text: str, aspects: tuple[str, ...]) -> tuple[dict[str, int], int]:
    """(scores by aspect, overall) from a judge's reply, or ReplyProblem. Strict: one JSON object with exactly
    "scores" (exactly `aspects` as keys; may be left out when there are none) and "overall", whole numbers 1..5."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    if not body:
        raise ReplyProblem("empty reply")
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except ReplyProblem:  # from the hooks: a duplicate key, NaN or Infinity
        raise
    except json.JSONDecodeError as exc:
        raise ReplyProblem(f"not a JSON object: {exc.msg} at character {exc.pos + 1}") from exc
    except (RecursionError, ValueError) as exc:  # nested too deeply; an integer too long to convert
        raise ReplyProblem(f"not a JSON object: {one_line(exc, 80)}") from exc
    if not isinstance(data, dict):
        raise ReplyProblem(f"expected a JSON object, got {type(data).__name__}")
    extra = sorted(set(data) - {"scores", "overall"})
    if extra:
        raise ReplyProblem(f"unexpected key {quoted(extra[0])[:60]}: only \"scores\" and \"overall\" are allowed")
    if "overall" not in data:
        raise ReplyProblem('"overall" is missing')
    overall = _score(data["overall"], '"overall"')
    raw = data.get("scores", {} if not aspects else None)
    if not isinstance(raw, dict):
        raise ReplyProblem('"scores" must be an object of aspect: score' if "scores" in data else '"scores" is missing')
    unknown = [k for k in raw if k not in aspects]
    if unknown:
        raise ReplyProblem(f"\"scores\" has {quoted(unknown[0])[:80]}, which is not one of the expected aspects")
    missing = [a for a in aspects if a not in raw]
    if missing:
        raise ReplyProblem(f"\"scores\" lacks the aspect {quoted(missing[0])[:80]}")
    scores = {a: _score(raw[a], f"the score of {quoted(a)[:60]}") for a in aspects}
    return scores, overall


@dataclass
class ItemOutcome:
    index: int  # position in the file
    request_id: str
    attempts: int
    scored: bool
    overall: int | None
    reason: str | None  # why it stays unscored


@dataclass
class JudgeSummary:
    path: Path
    rater: str
    total_items: int  # items in the file
    outcomes: list[ItemOutcome] = field(default_factory=list)
    attempts: int = 0  # this run's
    retries: int = 0
    unparseable: int = 0
    request_errors: int = 0

    @property
    def scored(self) -> int:
        return sum(1 for o in self.outcomes if o.scored)

    @property
    def unscored(self) -> int:
        return len(self.outcomes) - self.scored


def open_judge_file(run_dir: Path, run: RunJson, model_id: str, *, overall_only: bool = False,
                    one_round: bool = False) -> tuple[Path, AnnotationFile]:
    """The judge's file: loaded when it exists (a FileProblem, left untouched, when it does not load), else new."""
    rater = judge_rater(model_id)
    path = annotation_path(run_dir, rater)
    if path.exists():
        file = load_annotations(path, run)
        if file.rater != rater:
            raise FileProblem(path, f"belongs to rater {file.rater!r}, not {rater!r}; move it away to judge with "
                              f"{model_id}")
        if file.judge is None:
            file.judge = JudgeInfo(model=model_id)
        return path, file
    items = build_items(run, one_round=one_round)
    if not items:
        raise UserError(f"{run_dir}: run {run.run_id} has no answers to score (no measured request finished ok)")
    rubric = rubric_for_run(run, overall_only=overall_only)
    file = new_file(run.run_id, rater, rubric, items, seed=None, blind=False, one_round=one_round,
                    judge=JudgeInfo(model=model_id))
    return path, file


async def judge_item(
    client: httpx.AsyncClient, inference_url: str, model_id: str, prompt: str, aspects: tuple[str, ...], *,
    max_tokens: int = JUDGE_MAX_TOKENS, timeout_s: float | None = 120.0, attempts: int = ATTEMPTS,
) -> tuple[dict[str, int] | None, int | None, int, int, int, str | None]:
    """(scores, overall, attempts, unparseable, request errors, reason) for one answer."""
    body = chat_body(model_id, prompt, max_tokens=max_tokens, temperature=0.0, system=SYSTEM)
    unparseable = errors = 0
    reason: str | None = None
    for attempt in range(1, attempts + 1):
        rec = await stream_chat(client, inference_url, body, timeout_s=timeout_s)
        result = request_result(rec, id=f"judge|{attempt}", model=model_id, prompt_id="judge", round=attempt,
                                warmup=False, run_start_ns=rec.scheduled_ns)
        if result.status != "ok":
            errors += 1
            reason = f"request failed: {result.error}"
            continue
        try:
            scores, overall = parse_reply(result.text, aspects)
        except ReplyProblem as exc:
            unparseable += 1
            reason = f"unparseable reply: {exc}"
            retry = f"{prompt}\n\nYour previous reply could not be used ({exc}). Reply with the JSON object only."
            body = chat_body(model_id, retry, max_tokens=max_tokens, temperature=0.0, system=SYSTEM)
            continue
        return scores, overall, attempt, unparseable, errors, None
    return None, None, attempts, unparseable, errors, reason


async def judge_run(
    client: httpx.AsyncClient,
    inference_url: str,
    run_dir: Path | str,
    model_id: str,
    *,
    limit: int | None = None,
    overall_only: bool = False,
    one_round: bool = False,
    max_tokens: int = JUDGE_MAX_TOKENS,
    timeout_s: float | None = 120.0,
    on_item: Callable[[ItemOutcome, JudgeSummary], None] | None = None,
) -> JudgeSummary:
    """Judge the unscored items of a run (at most `limit`) with `model_id`, already loaded behind `inference_url`;
    the file is saved after every item."""
    run_dir = run_dir_of(run_dir)
    run = read_run(run_dir)
    path, file = open_judge_file(run_dir, run, model_id, overall_only=overall_only, one_round=one_round)
    rubric = file.rubric_obj()
    texts = {r.id: r.text for r in run.requests}
    prompts = {p.get("id"): str(p.get("prompt", "")) for p in run.prompts}
    summary = JudgeSummary(path=path, rater=file.rater, total_items=len(file.items))
    todo = [i for i, item in enumerate(file.items) if not is_scored(item, rubric.scored_aspects(item.prompt_id))]
    if limit is not None:
        todo = todo[:limit]
    save(path, file)
    for index in todo:
        item: AnnotationItem = file.items[index]
        aspects = rubric.scored_aspects(item.prompt_id)
        answer = texts.get(item.request_id, "")
        prompt = judge_prompt(rubric, prompts.get(item.prompt_id, ""), aspects, answer)
        started = time.monotonic()
        scores, overall, attempts, unparseable, errors, reason = await judge_item(
            client, inference_url, model_id, prompt, aspects, max_tokens=max_tokens, timeout_s=timeout_s)
        item.seconds_spent = round(item.seconds_spent + time.monotonic() - started, 3)
        item.attempts = (item.attempts or 0) + attempts
        if overall is not None:
            item.scores, item.overall, item.note, item.scored_at = dict(scores or {}), overall, "", now_iso()
        else:
            item.note = f"judge: no usable reply after {attempts} attempts; last: {reason}"
        info = file.judge
        info.attempts += attempts
        info.retries += attempts - 1
        info.unparseable += unparseable
        info.request_errors += errors
        summary.attempts += attempts
        summary.retries += attempts - 1
        summary.unparseable += unparseable
        summary.request_errors += errors
        save(path, file)
        outcome = ItemOutcome(index, item.request_id, attempts, overall is not None, overall, reason if overall is
                              None else None)
        summary.outcomes.append(outcome)
        if on_item is not None:
            on_item(outcome, summary)
    return summary
