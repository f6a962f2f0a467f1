"""Automatic checks a prompt may carry: testable parts of its aspects ("keeps to two sentences", "lists exactly
three benefits") checked on every answer, without a person or a judge.

A check is one JSON object with exactly one kind key (docs/benchmarking.md, "Checks"). Each is validated when the
prompt set is loaded, so a regex that does not compile or a JSON schema that is not one is a `path:line:col` problem
before any model runs, never a surprise in the middle of a run. Evaluation is pure and deterministic (`fl-tui
report` gets the same results from an old run's stored texts), and bounded: a user's pattern runs on the `regex`
package, which takes a time limit and lets go of the GIL while it matches, so a catastrophic pattern neither hangs
the run nor stalls the streams being timed; every check gets CHECK_TIME_S, and a check that runs out of time,
recurses too deep or fails in any other way is that check's failed result, with the reason, never the run's.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

from fl_tui.core.fields import NonBlank, OneLine
from fl_tui.core.jsonfile import ProblemAt

if TYPE_CHECKING:
    import jsonschema.protocols

# jsonschema (with referencing) is imported where a schema is checked or used, not with this module: reading
# models.json at the app's start comes through here, and jsonschema's import is ~0.1 s before the first frame

KINDS = ("contains", "not_contains", "regex", "max_sentences", "max_words", "count_items", "json_schema")
WHY_MAX = 120  # characters of a result's reason: a short why, not the answer again
CHECK_TIME_S = 0.5  # per check and answer; the shipped checks take well under a millisecond

Terms = Annotated[list[NonBlank], Field(min_length=1)] | NonBlank
Count = Annotated[int, Field(ge=1)]

# A list item: "- x", "* x", "• x", "+ x", "1. x", "2) x" at the start of a line (bold "**x**" is not one).
_ITEM = re.compile(r"^([ \t]*)(?:[-*•+]|\d{1,3}[.)])[ \t]+(?=\S)", re.MULTILINE)
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
# A sentence ends at . ! ? … (then closing quotes or brackets) before a space or the line's end, or at 。！？.
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\s+|$)|[。！？]+")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|vs|cf|approx|incl|Dr|Mr|Mrs|Ms|Prof|St|Fig|No)\.", re.IGNORECASE)
# Scripts written without spaces between words (kana, CJK ideographs, Thai, Lao, Myanmar, Khmer): a term starting
# with one of these is found anywhere, as no word start can be told there.
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)


class Check(BaseModel):
    """One check: a kind key with its argument, `match` for contains / not_contains, an optional `name`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[OneLine, Field(max_length=80)] | None = None
    contains: Terms | None = None
    not_contains: Terms | None = None
    match: Literal["any", "all"] | None = None
    regex: NonBlank | None = None
    max_sentences: Count | None = None
    max_words: Count | None = None
    count_items: Count | None = None
    json_schema: dict[str, Any] | None = None

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            regex.compile(pattern)
        except regex.error as exc:
            raise ValueError(f"regex does not compile: {exc.msg} at position {exc.pos} of the pattern") from None
        return pattern

    @field_validator("json_schema")
    @classmethod
    def _is_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        import jsonschema

        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise ProblemAt(f"not a valid JSON schema: {exc.message}", *exc.path) from None
        return schema

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        given = [kind for kind in KINDS if getattr(self, kind) is not None]
        if not given:
            raise ValueError(f"a check needs one of {', '.join(KINDS)}")
        if len(given) > 1:
            raise ProblemAt(f"one kind per check: {given[0]} and {given[1]} given (make them two checks)", given[1])
        if self.match is not None and given[0] not in ("contains", "not_contains"):
            raise ProblemAt(f"match goes with contains or not_contains, not {given[0]}", "match")
        return self

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler) -> dict[str, Any]:
        """run.json keeps a check as it was written: its kind and what was given, not seven nulls."""
        return {key: value for key, value in handler(self).items() if value is not None}

    @property
    def kind(self) -> str:
        return next(kind for kind in KINDS if getattr(self, kind) is not None)

    @property
    def label(self) -> str:
        """The check's `name`, else a short description: `max_sentences 2`, `contains any "a", "b"`."""
        if self.name:
            return self.name
        kind, value = self.kind, getattr(self, self.kind)
        if kind in ("contains", "not_contains"):
            return f"{kind} {self.match or 'all'} {_quoted(_terms(value))}"
        if kind == "regex":
            return f"regex /{value}/"
        return kind if kind == "json_schema" else f"{kind} {value}"


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    why: str

    def to_json(self) -> dict:
        return asdict(self)


def run_checks(checks: list[Check], answer: str) -> list[CheckResult]:
    """Every check on one answer, in the prompt's order. An empty (blank) answer fails every check: saying nothing
    must not pass "at most two sentences" or "does not mention X"."""
    blank = not answer.strip()
    return [CheckResult(c.label, False, "empty answer") if blank else _run(c, answer) for c in checks]


class OutOfTime(TimeoutError):
    """A check passed its deadline (the `regex` package raises a TimeoutError of its own)."""


def _run(check: Check, answer: str) -> CheckResult:
    # the check's own CPU time (this thread's): time spent waiting for the GIL beside the streams being timed, or
    # for a busy machine, is not the check's, and must not fail a legitimate check
    deadline = time.thread_time() + CHECK_TIME_S
    try:
        passed, why = _evaluate(check, answer, deadline)
    except TimeoutError:
        passed, why = False, f"timed out after {CHECK_TIME_S:g} s"
    except RecursionError:
        passed, why = False, "nested too deeply to check"
    except Exception as exc:  # any other fault of a check: its result says which; the run goes on
        passed, why = False, f"could not be checked: {type(exc).__name__}: {exc}"
    return CheckResult(check.label, passed, _short(why))


def _remaining(deadline: float) -> float:
    left = deadline - time.thread_time()
    if left <= 0:
        raise OutOfTime
    return left


def _evaluate(check: Check, answer: str, deadline: float) -> tuple[bool, str]:
    kind = check.kind
    value = getattr(check, kind)
    if kind in ("contains", "not_contains"):
        passed, why = _contains(_terms(value), answer, check.match or "all", negate=kind == "not_contains")
    elif kind == "regex":
        passed = regex.search(value, answer, timeout=_remaining(deadline), concurrent=True) is not None
        why = "matches" if passed else "no match"
    elif kind == "max_sentences":
        count = sentence_count(answer)
        passed, why = count <= value, f"{count} sentence{'s' if count != 1 else ''}"
    elif kind == "max_words":
        count = word_count(answer)
        passed, why = count <= value, f"{count} word{'s' if count != 1 else ''}"
    elif kind == "count_items":
        count = item_count(answer)
        passed, why = count == value, f"{count} item{'s' if count != 1 else ''}"
    else:
        passed, why = _schema(value, answer, deadline)
    return passed, why


def _terms(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _quoted(terms: list[str]) -> str:
    return ", ".join(json.dumps(t, ensure_ascii=False) for t in terms)


def _contains(terms: list[str], answer: str, match: str, *, negate: bool) -> tuple[bool, str]:
    """Case-insensitive (casefold: "STRASSE" finds "straße"), where a word begins: "retriev" finds "retrieval",
    "edge" does not find "knowledge". `all`: every term present (every one absent, negated); `any`: at least one."""
    folded = answer.casefold()
    present = [t for t in terms if re.search(_term_pattern(t.casefold()), folded)]
    absent = [t for t in terms if t not in present]
    if negate:
        if match == "all":
            return not present, (f"found {_quoted(present)}" if present else "none found")
        return bool(absent), (f"absent {_quoted(absent)}" if absent else f"found {_quoted(present)}")
    if match == "all":
        return not absent, (f"missing {_quoted(absent)}" if absent else "all found")
    return bool(present), (f"found {_quoted(present)}" if present else f"missing {_quoted(absent)}")


def _term_pattern(term: str) -> str:
    return re.escape(term) if _UNSPACED.match(term) else r"(?<!\w)" + re.escape(term)


def _lines_without_markers(answer: str) -> list[str]:
    return [_ITEM.sub("", line, count=1) for line in answer.splitlines()]


def sentence_count(answer: str) -> int:
    """Sentences: pieces ending at . ! ? … (before a space or the line's end) or 。！？; each line apart, so a list
    item or a heading counts as one. List markers ("1.") and common abbreviations ("e.g.") end nothing."""
    count = 0
    for line in _lines_without_markers(answer):
        line = _ABBREVIATION.sub(lambda m: m.group()[:-1], line)
        count += sum(1 for piece in _SENTENCE_END.split(line) if _WORD.search(piece))
    return count


def word_count(answer: str) -> int:
    """Runs of letters or digits (any script), hyphens and apostrophes inside a word; list markers left out."""
    return sum(len(_WORD.findall(line)) for line in _lines_without_markers(answer))


def item_count(answer: str) -> int:
    """Numbered or bulleted items at the outermost indent: sub-points under an item are not more items."""
    indents = [len(m.group(1).expandtabs(4)) for m in _ITEM.finditer(answer)]
    return indents.count(min(indents)) if indents else 0


def _timed_validator(schema: dict[str, Any], deadline: float) -> jsonschema.protocols.Validator:
    """The schema's validator with every keyword checking the deadline, and `pattern` and `patternProperties` on
    the `regex` package with the time left (jsonschema's own use `re`, which cannot be stopped)."""
    import jsonschema

    base = jsonschema.validators.validator_for(schema)

    def timed(keyword):
        def check(validator, value, instance, subschema):
            _remaining(deadline)
            yield from keyword(validator, value, instance, subschema) or ()
        return check

    def pattern(validator, patrn, instance, _subschema):
        if validator.is_type(instance, "string") and not regex.search(
                patrn, instance, timeout=_remaining(deadline), concurrent=True):
            yield jsonschema.ValidationError(f"{instance!r} does not match {patrn!r}")

    def pattern_properties(validator, patterns, instance, _subschema):
        if not validator.is_type(instance, "object"):
            return
        for patrn, subschema in patterns.items():
            for key, item in instance.items():
                if regex.search(patrn, key, timeout=_remaining(deadline), concurrent=True):
                    yield from validator.descend(item, subschema, path=key, schema_path=patrn)

    keywords = {name: timed(fn) for name, fn in base.VALIDATORS.items()}
    keywords.update(pattern=timed(pattern), patternProperties=timed(pattern_properties))
    return jsonschema.validators.extend(base, keywords)(schema)


def _schema(schema: dict[str, Any], answer: str, deadline: float) -> tuple[bool, str]:
    """The answer (or its first ``` fenced block) parsed as JSON, then validated."""
    import jsonschema
    import referencing.exceptions

    fenced = _FENCE.search(answer)
    text = fenced.group(1) if fenced else answer
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        return False, f"not JSON: {reason}"
    validator = _timed_validator(schema, deadline)
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except referencing.exceptions.Unresolvable as exc:  # a $ref to elsewhere (never fetched): the schema's fault
        return False, f"schema not applicable: {exc}"
    if error is None:
        return True, "valid"
    where = "/".join(str(step) for step in error.absolute_path)
    return False, (f"at {where}: " if where else "") + error.message


def _short(text: str) -> str:
    return text if len(text) <= WHY_MAX else text[: WHY_MAX - 1] + "…"
