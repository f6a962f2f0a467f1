"""Check results in a run: per request (run.json `requests[].checks`) and per model (`models[].checks`).

Only measured requests that answered are checked, as only they make the figures. A model's pass rate is checks
passed / checks run over those answers; it is its own labelled source ("Checks"), never mixed with people's or a
judge's scores. `with_checks` recomputes everything from the stored texts, so `fl-tui report` can check a run made
before its prompts had checks (given a prompt set that has them) and gets exactly what the run itself recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pydantic

from fl_tui.bench.load import level_label
from fl_tui.bench.runschema import RunJson
from fl_tui.bench.stats import Request, get_field, measured_ok
from fl_tui.core.checks import Check, run_checks
from fl_tui.core.errors import UserError
from fl_tui.core.jsonfile import dotted_path
from fl_tui.core.prompts import Prompt

_PROMPT = pydantic.TypeAdapter(Prompt)


def request_checks(checks: list[Check], request: Request) -> list[dict] | None:
    """The results of `checks` on one request's answer; None when it is not checked (warm-up, failed, no checks)."""
    if not checks or get_field(request, "warmup") or get_field(request, "status") != "ok":
        return None
    return [result.to_json() for result in run_checks(checks, get_field(request, "text") or "")]


def checks_summary(requests: Iterable[Request]) -> dict | None:
    """{passed, n, pass_rate, answers, answers_passed} over measured ok requests; None when none was checked.
    `n` counts checks, `answers` the answers they ran on, `answers_passed` those passing every one of theirs."""
    per_answer = [rows for r in measured_ok(requests) if (rows := get_field(r, "checks"))]
    if not per_answer:
        return None
    results = [bool(row.get("passed")) for rows in per_answer for row in rows]
    passed = sum(results)
    return {"passed": passed, "n": len(results), "pass_rate": passed / len(results), "answers": len(per_answer),
            "answers_passed": sum(all(row.get("passed") for row in rows) for rows in per_answer)}


def prompt_checks(prompts: Iterable[Mapping[str, Any]]) -> dict[str, list[Check]]:
    """{prompt id: its checks} from a run.json's `prompts`; one that is not a valid prompt is a UserError."""
    out: dict[str, list[Check]] = {}
    for number, raw in enumerate(prompts, 1):
        try:
            prompt = _PROMPT.validate_python(raw)
        except pydantic.ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            raise UserError(f"run.json prompt {number}: {dotted_path(error['loc'])}: {error['msg']}") from None
        out[prompt.id] = prompt.checks
    return out


def with_checks(run: RunJson, checks: Mapping[str, list[Check]] | None = None) -> RunJson:
    """`run` with every request's and model's check results recomputed from the answers' texts.

    `checks` ({prompt id: checks}) defaults to the run's own prompts; a run none of whose prompts has checks is
    returned as it is (whatever it recorded stays)."""
    checks = prompt_checks(run.prompts) if checks is None else checks
    if not any(checks.values()):
        return run
    requests = [r.model_copy(update={"checks": request_checks(checks.get(r.prompt_id, []), r)}) for r in run.requests]
    by_level: dict[str, list] = {}
    for request in requests:
        by_level.setdefault(level_label(request), []).append(request)
    models = [m.model_copy(update={"checks": checks_summary(by_level.get(level_label(m), []))}) for m in run.models]
    return run.model_copy(update={"requests": requests, "models": models})


def has_checks(run: RunJson) -> bool:
    """Whether any model of the run has check results: the reports then show a Checks column."""
    return any(m.checks is not None for m in run.models)


def pass_text(summary: Mapping | None) -> str:
    """`83% (10/12)`: checks passed of checks run; `—` when the model's answers were not checked."""
    if not isinstance(summary, Mapping) or not summary.get("n"):
        return "—"
    passed, n = summary.get("passed", 0), summary["n"]
    return f"{100 * passed / n:.0f}% ({passed}/{n})"

