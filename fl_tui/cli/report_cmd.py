"""`fl-tui report RUN` regenerates a run's reports (several runs, or a fleet folder: one fleet report); `fl-tui
compare BASE NEW` shows what changed (exit 1 on a regression, so it can gate CI), and `fl-tui compare RUN` the
endpoints of a run against several."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from fl_tui.annotate.stats import agreement, agreement_text
from fl_tui.cli.output import Format, print_document, render_table
from fl_tui.core.errors import UserError
from fl_tui.core.textsafe import plain
from fl_tui.runs import fleet as fleets
from fl_tui.runs.compared import compare, comparison_text
from fl_tui.runs.finished import RunReport, export, gather


def _warn(notes: list[str]) -> None:
    for note in dict.fromkeys(notes):  # each once, however many places found it
        print(f"fl-tui: warning: {note}", file=sys.stderr)


def run_report(args: argparse.Namespace) -> int:
    if len(args.run) > 1 or fleets.is_fleet_folder(args.run[0]):
        return _fleet_report(args)
    report = gather(args.run[0], annotations=[Path(p) for p in args.annotations or ()], prompts=args.prompts)
    _warn(report.notes)
    export(report)
    if args.format == "md":
        print(report.markdown())
    else:
        print_document({"csv": report.csv, "json": report.json}[args.format]())  # each ends its last line
    line = _agreement_line(args, report)
    if line:
        print(f"\n{line}" if args.format == "md" else line, file=sys.stdout if args.format == "md" else sys.stderr)
    return 0


def _fleet_report(args: argparse.Namespace) -> int:
    """Several runs, or a fleet folder's: one report; a fleet folder keeps its files."""
    if args.annotations or args.prompts:
        raise UserError("report: --annotations and --prompts are for one run, not a fleet")
    fleet = fleets.load_fleet(args.run)
    _warn([*fleet.notes, *fleet.warnings])
    fleets.export(fleet)
    print({"md": fleet.markdown, "csv": fleet.csv, "json": fleet.json}[args.format](), end="")
    return 0


def _agreement_line(args: argparse.Namespace, report: RunReport) -> str | None:
    """The raters' agreement, when several files fill the Quality column; None where the Markdown just printed says
    it already: the folder's people (no --annotations), three or more, have their Krippendorff's alpha in its
    Raters section (two get Cohen's kappa here, which the report does not give)."""
    if len(report.files) < 2:
        return None
    result = agreement(report.files, include_judges=True)
    people = not args.annotations and not any(f.judged for f in report.files)
    if args.format == "md" and people and result["method"] == "krippendorff_alpha_ordinal":
        return None
    return agreement_text(result)


def run_compare(args: argparse.Namespace) -> int:
    notes: list[str] = []
    results = compare(args.base, args.new, threshold=args.threshold, notes=notes)
    _warn(notes)
    if args.format is Format.JSON:
        shown = [{"base": c.base, "new": c.new, "threshold": args.threshold, "environment": c.environment,
                  "deltas": [asdict(d) for d in c.deltas], "only_base": c.only_base, "only_new": c.only_new}
                 for c in results]
        print(json.dumps(shown[0] if args.new is not None else {"run": args.base, "comparisons": shown}, indent=2))
    elif args.format in (Format.CSV, Format.MD):
        columns = ("model", "metric", "stat", "base", "new", "change", "ci_low", "ci_high", "regression")
        within = args.new is None  # one table for all: each row says which endpoint it compares
        rows = []
        for c in results:
            if c.environment:  # the table stays machine-readable
                print(f"fl-tui: warning: {plain(c.environment, keep_newlines=False)}", file=sys.stderr)
            rows += [{**({"endpoint": c.new} if within else {}), **asdict(d)} for d in c.deltas]
        print(render_table(args.format, (("endpoint",) if within else ()) + columns, rows))
    else:
        print(comparison_text(results, args.threshold))
    return 1 if any(c.regressed for c in results) else 0
