"""`fl-tui annotate export RUN` writes a run's scores (or, with --pairwise, its pairwise verdicts) as JSONL or CSV;
`fl-tui judge RUN --model NAME` has a model score the answers with the same rubric, into its own file (rater
`model:<id>`)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from pathlib import Path

from fl_tui.annotate.judge import ItemOutcome, JudgeSummary, judge_run
from fl_tui.annotate.pairwise import PairwiseFile, list_pairwise_files, load_pairwise, pairwise_path
from fl_tui.annotate.store import AnnotationFile, annotation_path, list_annotation_files, load_annotations
from fl_tui.bench.runfiles import read_run, run_dir_of
from fl_tui.bench.runschema import RunJson
from fl_tui.cli.context import backend_for
from fl_tui.connection.base import BackendError, Capability
from fl_tui.connection.chat import stream_client
from fl_tui.core.errors import UserError
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.textsafe import csv_cell, json_text, plain

EXPORT_COLUMNS = ("run_id", "rater", "judged", "request_id", "model", "prompt_id", "round", "completion", "overall",
                  "scores", "note", "scored_at", "seconds_spent", "attempts")
PAIRWISE_COLUMNS = ("run_id", "rater", "pair", "prompt_id", "round", "request_a", "model_a", "request_b", "model_b",
                    "verdict", "winner", "judged_at")


def no_action(args: argparse.Namespace) -> int:
    raise UserError("annotate: say what to do: `fl-tui annotate export RUN` (scoring is in the app's Annotate tab)")


# -- export ----------------------------------------------------------------------------------------------------


def export_rows(files: list[AnnotationFile]) -> list[dict]:
    """One row per item; `completion` (scored, partly, unscored) says which items the quality figures count (only
    the scored ones, store.Completion), so a spreadsheet can compute the same means."""
    rows = []
    for f in files:
        for item in f.items:
            rows.append({
                "run_id": f.run_id, "rater": f.rater, "judged": f.judged, "request_id": item.request_id,
                "model": item.model, "prompt_id": item.prompt_id, "round": item.round,
                "completion": str(f.completion(item)), "overall": item.overall,
                "scores": dict(item.scores), "note": item.note, "scored_at": item.scored_at,
                "seconds_spent": item.seconds_spent, "attempts": item.attempts,
            })
    return rows


def render_jsonl(rows: list[dict]) -> str:
    return "".join(_json_line(row) + "\n" for row in rows)


def _json_line(row: dict) -> str:
    """UTF-8 where it can be, controls and bidi marks escaped (textsafe.json_text); a note keeping a lone
    surrogate (see store.dumps) is written with escapes instead."""
    line = json_text(json.dumps(row, ensure_ascii=False))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row)
    return line


def render_export_csv(rows: list[dict], columns: tuple[str, ...] = EXPORT_COLUMNS) -> str:
    """A header and one row per item; `scores` as a JSON object; every cell through csv_cell()."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row[col]) for col in columns])
    return buffer.getvalue()


def pairwise_rows(files: list[PairwiseFile]) -> list[dict]:
    """One row per pair with a verdict (skipped ones too), in judging order; `winner` is the better model's name,
    or tie / both_bad / skipped."""
    rows = []
    for f in files:
        for i, p in enumerate(f.pairs):
            if p.verdict is None:
                continue
            winner = {"a": p.a.model, "b": p.b.model}.get(p.verdict, p.verdict)
            rows.append({"run_id": f.run_id, "rater": f.rater, "pair": i, "prompt_id": p.prompt_id, "round": p.round,
                         "request_a": p.a.request_id, "model_a": p.a.model, "request_b": p.b.request_id,
                         "model_b": p.b.model, "verdict": p.verdict, "winner": winner, "judged_at": p.judged_at})
    return rows


def _pairwise_files(run_dir: Path, run: RunJson, rater: str | None) -> list[PairwiseFile]:
    paths = [pairwise_path(run_dir, rater)] if rater is not None else list_pairwise_files(run_dir)
    if not paths or not paths[0].is_file():
        known = ", ".join(p.name for p in list_pairwise_files(run_dir)) or "none"
        raise UserError(f"{run_dir}: no pairwise file{f' for rater {rater!r}' if rater else 's'} (pairwise.*.json) "
                        f"to export (files in the run folder: {known})")
    files = [load_pairwise(p, run) for p in paths]
    if rater is not None and files[0].rater != rater.strip():
        raise UserError(f"{paths[0]}: belongs to rater {files[0].rater!r}, not {rater!r}")
    return files


def _export_files(run_dir: Path, run: RunJson, rater: str | None) -> list[AnnotationFile]:
    if rater is not None:
        path = annotation_path(run_dir, rater)
        if not path.is_file():
            known = ", ".join(p.name for p in list_annotation_files(run_dir)) or "none"
            raise UserError(f"{path}: no annotation file for rater {rater!r} (files in the run folder: {known})")
        file = load_annotations(path, run)
        if file.rater != rater.strip():
            raise UserError(f"{path}: belongs to rater {file.rater!r}, not {rater!r}")
        return [file]
    paths = list_annotation_files(run_dir)
    if not paths:
        raise UserError(f"{run_dir}: no annotation files (annotations.*.json) to export")
    return [load_annotations(p, run) for p in paths]


def run_export(args: argparse.Namespace) -> int:
    run_dir = run_dir_of(args.run)
    run = read_run(run_dir)
    if args.pairwise:
        rows, columns, what = pairwise_rows(_pairwise_files(run_dir, run, args.rater)), PAIRWISE_COLUMNS, "verdicts"
    else:
        rows, columns, what = export_rows(_export_files(run_dir, run, args.rater)), EXPORT_COLUMNS, "items"
    text = render_jsonl(rows) if args.format == "jsonl" else render_export_csv(rows, columns)
    if args.out:
        atomic_write_text(Path(args.out), text)
        print(f"{len(rows)} {what} written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


# -- judge -----------------------------------------------------------------------------------------------------


def _print_item(outcome: ItemOutcome, summary: JudgeSummary) -> None:
    done = len(summary.outcomes)
    what = f"overall {outcome.overall}" if outcome.scored else f"unscored: {outcome.reason}"
    print(f"[{done}] {plain(outcome.request_id, keep_newlines=False)}: {plain(what, keep_newlines=False)} "
          f"({outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''})", flush=True)


def run_judge(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UserError(f"--limit must be positive, got {args.limit}")
    if args.max_tokens < 1 or args.timeout <= 0:
        raise UserError("--max-tokens and --timeout must be positive")
    run_dir = run_dir_of(args.run)
    read_run(run_dir)  # a bad run folder fails before a runtime starts
    with backend_for(args) as (backend, _choice):
        entry = backend.resolve(args.model)
        loaded_by_us = False
        if backend.supports(Capability.LOAD) and not entry.loaded:
            backend.load(entry.id)
            loaded_by_us = True
        try:
            async def judge() -> JudgeSummary:
                async with stream_client() as client:
                    return await judge_run(
                        client, backend.inference_url, run_dir, entry.id, limit=args.limit,
                        overall_only=args.overall_only, one_round=args.one_round, max_tokens=args.max_tokens,
                        timeout_s=args.timeout, on_item=_print_item,
                    )

            summary = asyncio.run(judge())
        finally:
            if loaded_by_us and backend.supports(Capability.UNLOAD):
                try:
                    backend.unload(entry.id)
                except BackendError as exc:  # the scores are saved; say so and carry on
                    print(f"fl-tui: warning: unloading {plain(entry.id)} failed: {plain(exc)}", file=sys.stderr)
    judged = len(summary.outcomes)
    print(f"judge {plain(summary.rater)}: {judged} item{'s' if judged != 1 else ''} judged, {summary.scored} scored, "
          f"{summary.unscored} unscored; {summary.attempts} attempts, {summary.retries} retries "
          f"({summary.unparseable} unparseable replies, {summary.request_errors} failed requests)")
    print(f"annotations: {summary.path}")
    return 1 if summary.unscored else 0
