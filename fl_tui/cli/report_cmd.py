"""`fl-tui report RUN` regenerates a run's reports; `fl-tui compare BASE NEW` shows what changed (exit 1 on a
regression, so it can gate CI), and `fl-tui compare RUN` the endpoints of a run against several."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from fl_tui.annotate.pairstats import results
from fl_tui.annotate.pairwise import pairwise_files
from fl_tui.annotate.quality import judge_section, labelled, quality_for, run_files
from fl_tui.annotate.room import room_section
from fl_tui.annotate.stats import agreement, agreement_text
from fl_tui.annotate.store import AnnotationFile, load_annotations
from fl_tui.bench.checks import with_checks
from fl_tui.bench.compare import compare_runs, models_only_in, render_comparison
from fl_tui.bench.endpoints import endpoint_pairs
from fl_tui.bench.environment import environment_note
from fl_tui.bench.report import render_csv, render_json, render_markdown, write_reports
from fl_tui.bench.runfiles import load_run, run_dir_of
from fl_tui.cli.output import Format, render_table
from fl_tui.core.errors import UserError
from fl_tui.core.prompts import load_prompt_set
from fl_tui.core.resources import find_prompt_set
from fl_tui.core.textsafe import plain


def _annotation_files(args: argparse.Namespace, run: dict, people: list[AnnotationFile],
                      problems: list) -> list[AnnotationFile]:
    """The named files (each must load), or every person's file in the run folder (`people`, read by
    run_files; one that does not load is reported and left out)."""
    if args.annotations:
        return [load_annotations(Path(p), run) for p in args.annotations]
    for problem in problems:
        shown = plain(problem, keep_newlines=False)
        print(f"fl-tui: warning: left out of the Quality column: {shown}", file=sys.stderr)
    return people


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
    people, judges, problems = run_files(run_dir, run)
    files = _annotation_files(args, run, people, problems)
    quality, label = quality_for(files)
    partly = sum(entry.get("partly", 0) for entry in (quality or {}).values())
    if partly:
        print(f"fl-tui: note: {partly} partly scored answer{'s' if partly != 1 else ''} left out of the Quality "
              "column (an answer counts once its overall and every aspect are scored)", file=sys.stderr)
    run = labelled(run, label)
    pairwise, problems = pairwise_files(run_dir, run)
    for problem in problems:
        print(f"fl-tui: warning: left out of the pairwise ranking: {plain(problem, keep_newlines=False)}",
              file=sys.stderr)
    if pairwise:
        run = {**run, "pairwise": results(pairwise)}  # report.md's "Pairwise ranking" section
    sections = judge_section(people, judges) + room_section(people)
    write_reports(run_dir, run, quality, sections)
    if args.format == "md":
        print(render_markdown(run, quality, sections))
    else:
        print({"csv": render_csv, "json": render_json}[args.format](run, quality), end="" if args.format == "csv"
              else "\n")
    if len(files) > 1:
        line = agreement_text(agreement(files, include_judges=True))
        print(f"\n{line}" if args.format == "md" else line, file=sys.stdout if args.format == "md" else sys.stderr)
    return 0


def _pairs(args: argparse.Namespace) -> list[tuple[str, str, dict, dict]]:
    """(base name, new name, base run, new run) for each comparison asked for: two runs, or one run against several
    endpoints, whose first endpoint is the base for each of the others."""
    base = _checked(load_run(run_dir_of(args.base)))
    if args.new is not None:
        new = _checked(load_run(run_dir_of(args.new)))
        return [(base["run_id"], new["run_id"], base, new)]
    pairs = endpoint_pairs(base)
    if not pairs:
        raise UserError(f"compare: {args.base} was run against one endpoint; name a second run to compare it with")
    return pairs


def run_compare(args: argparse.Namespace) -> int:
    pairs = _pairs(args)
    results = []
    for base_name, new_name, base, new in pairs:
        only_base, only_new = models_only_in(base, new)
        results.append((base_name, new_name, compare_runs(base, new, threshold=args.threshold), only_base, only_new,
                        environment_note(base, new)))
    if args.format is Format.JSON:
        shown = [{"base": b, "new": n, "threshold": args.threshold, "environment": note,
                  "deltas": [asdict(d) for d in deltas], "only_base": ob, "only_new": on}
                 for b, n, deltas, ob, on, note in results]
        print(json.dumps(shown[0] if args.new is not None else {"run": args.base, "comparisons": shown}, indent=2))
    elif args.format in (Format.CSV, Format.MD):
        columns = ("model", "metric", "stat", "base", "new", "change", "ci_low", "ci_high", "regression")
        within = args.new is None  # one table for all: each row says which endpoint it compares
        rows = []
        for _b, n, deltas, _ob, _on, note in results:
            if note:  # the table stays machine-readable
                print(f"fl-tui: warning: {plain(note, keep_newlines=False)}", file=sys.stderr)
            rows += [{**({"endpoint": n} if within else {}), **asdict(d)} for d in deltas]
        print(render_table(args.format, (("endpoint",) if within else ()) + columns, rows))
    else:
        for index, (b, n, deltas, only_base, only_new, note) in enumerate(results):
            names = [plain(name, keep_newlines=False) for name in (b, n)]
            print(("\n" if index else "") + f"base {names[0]}  ->  new {names[1]}  (threshold {args.threshold:.0%})")
            print(f"{plain(note, keep_newlines=False)}\n" if note else "")
            print(render_comparison(deltas, only_base=only_base, only_new=only_new))
    return 1 if any(d.regression for result in results for d in result[2]) else 0
