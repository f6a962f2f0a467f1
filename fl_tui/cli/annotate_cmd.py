"""`fl-tui annotate export RUN` writes a run's scores as JSONL or CSV; `fl-tui judge RUN --model NAME` has a model
score the answers with the same rubric, into its own file (rater `model:<id>`)."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from pathlib import Path

from fl_tui.annotate.judge import ItemOutcome, JudgeSummary, judge_run
from fl_tui.annotate.store import AnnotationFile, annotation_path, list_annotation_files, load_annotations
from fl_tui.bench.runfiles import load_run, run_dir_of
from fl_tui.cli.context import backend_for
from fl_tui.connection.base import BackendError, Capability
from fl_tui.connection.chat import stream_client
from fl_tui.core.errors import UserError
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.textsafe import csv_cell, json_text, plain

EXPORT_COLUMNS = ("run_id", "rater", "judged", "request_id", "model", "prompt_id", "round", "completion", "overall",
                  "scores", "note", "scored_at", "seconds_spent", "attempts")


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


def render_export_csv(rows: list[dict]) -> str:
    """A header and one row per item; `scores` as a JSON object; every cell through csv_cell()."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[col]) for col in EXPORT_COLUMNS])
    return buffer.getvalue()


def _export_files(run_dir: Path, run: dict, rater: str | None) -> list[AnnotationFile]:
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
    run = load_run(run_dir)
    rows = export_rows(_export_files(run_dir, run, args.rater))
    text = render_jsonl(rows) if args.format == "jsonl" else render_export_csv(rows)
    if args.out:
        atomic_write_text(Path(args.out), text)
        print(f"{len(rows)} items written to {args.out}", file=sys.stderr)
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
    load_run(run_dir)  # a bad run folder fails before a runtime starts
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
