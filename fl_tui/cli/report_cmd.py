"""`fl-tui report RUN` regenerates a run's reports; `fl-tui compare BASE NEW` shows what changed (exit 1 on a
regression, so it can gate CI)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from fl_tui.annotate.quality import labelled, people_files, quality_for
from fl_tui.annotate.stats import agreement, agreement_text
from fl_tui.annotate.store import AnnotationFile, load_annotations
from fl_tui.bench.checks import with_checks
from fl_tui.bench.compare import compare_runs, models_only_in, render_comparison
from fl_tui.bench.environment import environment_note
from fl_tui.bench.report import render_csv, render_json, render_markdown, write_reports
from fl_tui.bench.runfiles import load_run, run_dir_of
from fl_tui.cli.output import Format, render_table
from fl_tui.core.errors import UserError
from fl_tui.core.prompts import load_prompt_set
from fl_tui.core.resources import find_prompt_set
from fl_tui.core.textsafe import plain


def _annotation_files(args: argparse.Namespace, run_dir: Path, run: dict) -> list[AnnotationFile]:
    """The named files (each must load), or every person's file in the run folder (one that does not load is
    reported and left out)."""
    if args.annotations:
        return [load_annotations(Path(p), run) for p in args.annotations]
    files, problems = people_files(run_dir, run)
    for problem in problems:
        shown = plain(problem, keep_newlines=False)
        print(f"fl-tui: warning: left out of the Quality column: {shown}", file=sys.stderr)
    return files


def _checked(run: dict, prompts: str | None = None) -> dict:
    """The run with its checks recomputed from the stored answers: by the run's own prompts, or by those of the
    prompt set `--prompts` names (matched by prompt id), for a run made before its prompts had checks. Own prompts
    this version cannot read (a newer check kind) leave the run's recorded results as they are, with a warning."""
    if prompts is not None:
        prompt_set = load_prompt_set(find_prompt_set(prompts))
        return with_checks(run, {p.id: p.checks for p in prompt_set.prompts})
    try:
        return with_checks(run)
    except UserError as exc:
        shown = plain(str(exc), keep_newlines=False)
        print(f"fl-tui: warning: checks of {plain(str(run.get('run_id')))} not recomputed: {shown}", file=sys.stderr)
        return run


def run_report(args: argparse.Namespace) -> int:
    run_dir = run_dir_of(args.run)
    run = _checked(load_run(run_dir), args.prompts)
    files = _annotation_files(args, run_dir, run)
    quality, label = quality_for(files)
    partly = sum(entry.get("partly", 0) for entry in (quality or {}).values())
    if partly:
        print(f"fl-tui: note: {partly} partly scored answer{'s' if partly != 1 else ''} left out of the Quality "
              "column (an answer counts once its overall and every aspect are scored)", file=sys.stderr)
    run = labelled(run, label)
    write_reports(run_dir, run, quality)
    render = {"md": render_markdown, "csv": render_csv, "json": render_json}[args.format]
    print(render(run, quality), end="" if args.format == "csv" else "\n")
    if len(files) > 1:
        line = agreement_text(agreement(files, include_judges=True))
        print(f"\n{line}" if args.format == "md" else line, file=sys.stdout if args.format == "md" else sys.stderr)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    base, new = (_checked(load_run(run_dir_of(path))) for path in (args.base, args.new))
    deltas = compare_runs(base, new, threshold=args.threshold)
    only_base, only_new = models_only_in(base, new)
    note = environment_note(base, new)
    if args.format is Format.JSON:
        print(json.dumps({"base": base["run_id"], "new": new["run_id"], "threshold": args.threshold,
                          "environment": note, "deltas": [asdict(d) for d in deltas], "only_base": only_base,
                          "only_new": only_new}, indent=2))
    elif args.format in (Format.CSV, Format.MD):
        if note:  # the table stays machine-readable
            print(f"fl-tui: warning: {plain(note, keep_newlines=False)}", file=sys.stderr)
        columns = ("model", "metric", "stat", "base", "new", "change", "ci_low", "ci_high", "regression")
        print(render_table(args.format, columns, [asdict(d) for d in deltas]))
    else:
        ids = [plain(run["run_id"], keep_newlines=False) for run in (base, new)]
        print(f"base {ids[0]}  ->  new {ids[1]}  (threshold {args.threshold:.0%})")
        print(f"{plain(note, keep_newlines=False)}\n" if note else "")
        print(render_comparison(deltas, only_base=only_base, only_new=only_new))
    return 1 if any(d.regression for d in deltas) else 0
