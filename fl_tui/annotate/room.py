"""A room's results for its instructor (`fl-tui room RUN`): who has scored how many answers, the room's agreement
(Krippendorff's alpha over every participant, each answer rated by whoever scored it), quality beside speed per
model over everyone's scores with its interval, and the pairwise ranking over everyone's choices. Read from the
run folder's files, which each person's app saves on every key, so it is as live as it is re-read."""

from __future__ import annotations

from pathlib import Path

from fl_tui.annotate.pairstats import results, results_lines
from fl_tui.annotate.pairwise import list_pairwise_files, pairwise_files
from fl_tui.annotate.quality import run_files
from fl_tui.annotate.stats import krippendorff_alpha_ordinal, quality_by_model
from fl_tui.annotate.store import AnnotationFile, Completion, list_annotation_files
from fl_tui.bench.report import quality_text
from fl_tui.bench.runschema import RunJson
from fl_tui.core.textsafe import plain


def room_alpha(files: list[AnnotationFile]) -> tuple[float | None, int]:
    """Krippendorff's alpha (ordinal) of the overall scores over every answer any two people scored completely,
    missing ratings left out (alpha's own way), and how many such answers there are."""
    scored = [{i.request_id: i.overall for i in f.items if f.completion(i) is Completion.SCORED} for f in files]
    units = sorted({r for s in scored for r in s})
    pairable = [u for u in units if sum(u in s for s in scored) >= 2]
    if len(files) < 2 or not pairable:
        return None, 0
    return krippendorff_alpha_ordinal([[s.get(u) for u in pairable] for s in scored]), len(pairable)


def raters_rows(files: list[AnnotationFile]) -> list[dict]:
    """One row per person: answers scored completely, partly, skipped, of all."""
    rows = []
    for f in sorted(files, key=lambda f: f.rater.casefold()):
        done = [f.completion(i) for i in f.items]
        rows.append({"rater": f.rater, "scored": done.count(Completion.SCORED),
                     "partly": done.count(Completion.PARTLY), "skipped": done.count(Completion.SKIPPED),
                     "answers": len(f.items)})
    return rows


def _extras(row: dict) -> str:
    return "".join(f", {row[k]} {k}" for k in ("partly", "skipped") if row[k])


def room_text(run_dir: Path, run: RunJson) -> str:
    """The whole view, every line plain (names and models are untrusted)."""
    people, _judges, problems = run_files(run_dir, run)
    lines = [f"Room: run {plain(run.run_id, keep_newlines=False)} · {len(people)} "
             f"{'person' if len(people) == 1 else 'people'} scoring", ""]
    for row in raters_rows(people):
        lines.append(f"  {plain(row['rater'], keep_newlines=False)}: {row['scored']}/{row['answers']} scored"
                     f"{_extras(row)}")
    if not people:
        lines.append("  nobody has scored yet")
    alpha, units = room_alpha(people)
    shown = "needs two people scoring one answer" if not units else (
        "undefined" if alpha is None else f"{alpha:.3f}")
    lines += ["", f"Agreement (Krippendorff's alpha, ordinal, overall scores) over {units} answers scored by two "
                  f"or more: {shown}", "", "Quality beside speed (people's scores: mean [95% interval] (n answers); "
                  "TTFT p50, decode tok/s mean):"]
    quality = quality_by_model(people)
    for model in run.models:
        name = model.model
        ttft = (model.summary.get("ttft_ms") or {}).get("p50")
        decode = (model.summary.get("decode_tps") or {}).get("mean")
        speed = f"TTFT {ttft:.0f} ms" if isinstance(ttft, int | float) else "TTFT -"
        speed += f", {decode:.1f} tok/s" if isinstance(decode, int | float) else ", - tok/s"
        lines.append(f"  {plain(name, keep_newlines=False)}: {quality_text(quality.get(name))} · {speed}")
    pairs, pair_problems = pairwise_files(run_dir, run)
    if pairs:
        lines += ["", *(plain(line, keep_newlines=False) for line in results_lines(results(pairs)))]
    lines += [f"left out: {plain(str(p), keep_newlines=False)}" for p in (*problems, *pair_problems)]
    return "\n".join(lines)


def room_stamp(run_dir: Path) -> tuple:
    """What changes when anyone scores or judges: each person's file's name, size and modification time."""
    stamps = []
    for path in (*list_annotation_files(run_dir), *list_pairwise_files(run_dir)):
        try:
            info = path.stat()
        except FileNotFoundError:  # replaced between the listing and the stat: the next look sees it
            continue
        stamps.append((path.name, info.st_size, info.st_mtime_ns))
    return tuple(stamps)


def room_section(people: list[AnnotationFile]) -> list[str]:
    """report.md's "Raters": who scored how many answers, and the room's alpha, when people scored the run."""
    if not people:
        return []
    alpha, units = room_alpha(people)
    shown = "undefined" if alpha is None else f"{alpha:.3f}"
    lines = ["", "## Raters", ""]
    for row in raters_rows(people):
        lines.append(f"- {plain(row['rater'], keep_newlines=False)}: {row['scored']} of {row['answers']} answers "
                     f"scored completely{_extras(row)}")
    if units:
        lines += ["", f"Agreement over everyone: Krippendorff's alpha (ordinal, overall scores) {shown} over {units} "
                      "answers scored completely by two or more people (each answer rated by whoever scored it)."]
    return lines
