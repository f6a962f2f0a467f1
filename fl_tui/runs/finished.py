"""A finished run's report, gathered once: checks recomputed from the stored answers, the Quality column from
people's scores (or, where only a judge model scored, the judge's), the pairwise ranking, the judge and room
sections. `fl-tui report` and the Benchmark tab's export both write `export(gather(folder))`, so their files are
the same bytes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fl_tui.annotate.pairstats import results
from fl_tui.annotate.pairwise import pairwise_files
from fl_tui.annotate.quality import judge_section, labelled, quality_for, run_files
from fl_tui.annotate.room import room_section
from fl_tui.annotate.store import AnnotationFile, load_annotations
from fl_tui.bench.checks import with_checks
from fl_tui.bench.report import render_csv, render_json, render_markdown
from fl_tui.bench.runfiles import read_run, run_dir_of
from fl_tui.bench.runschema import RunJson
from fl_tui.core.errors import UserError
from fl_tui.core.fileio import atomic_write_text
from fl_tui.core.prompts import load_prompt_set
from fl_tui.core.resources import find_prompt_set
from fl_tui.core.textsafe import plain

REPORT_FILES = ("report.md", "report.csv", "report.json")


@dataclass(frozen=True)
class RunReport:
    """Everything the report files of one run are rendered from."""

    folder: Path
    run: RunJson  # checks recomputed, the quality label in its settings
    quality: dict | None  # model -> quality figures, or None when nobody scored
    files: list[AnnotationFile]  # the score files behind the Quality column
    sections: list[str]  # report.md's judge and room sections
    notes: list[str] = field(default_factory=list)  # one line each, for the person: what was left out and why
    pairwise: dict | None = None  # people's pairwise verdicts (pairstats.results), when anyone judged pairs

    def markdown(self) -> str:
        return render_markdown(self.run, self.quality, self.sections, self.pairwise)

    def csv(self) -> str:
        return render_csv(self.run, self.quality)

    def json(self) -> str:
        return render_json(self.run, self.quality)


def gather(run: Path | str, *, annotations: Sequence[Path] = (), prompts: str | None = None) -> RunReport:
    """The report of the run in folder `run` (or its run.json). `annotations`: score files to use instead of the
    folder's own (each must load); `prompts`: a prompt set whose checks replace the run's own (by prompt id)."""
    folder = run_dir_of(run)
    notes: list[str] = []
    data = checked(read_run(folder), prompts, notes)
    people, judges, problems = run_files(folder, data)
    if annotations:
        files = [load_annotations(Path(p), data) for p in annotations]
    else:
        notes += [f"left out of the Quality column: {plain(str(p), keep_newlines=False)}" for p in problems]
        files = scorers(people, judges)
    quality, label = quality_for(files)
    partly = sum(entry.get("partly", 0) for entry in (quality or {}).values())
    if partly:
        notes.append(f"{partly} partly scored answer{'s' if partly != 1 else ''} left out of the Quality column "
                     "(an answer counts once its overall and every aspect are scored)")
    data = labelled(data, label)
    choices, problems = pairwise_files(folder, data)
    notes += [f"left out of the pairwise ranking: {plain(str(p), keep_newlines=False)}" for p in problems]
    pairwise = results(choices) if choices else None  # report.md's "Pairwise ranking" section
    return RunReport(folder, data, quality, files, judge_section(people, judges) + room_section(people), notes,
                     pairwise)


def scorers(people: list[AnnotationFile], judges: list[AnnotationFile]) -> list[AnnotationFile]:
    """Whose scores fill the Quality column: people's, or a judge model's where no person scored the run (the
    two are never mixed)."""
    return people or judges


def quality_of(folder: Path, run: RunJson) -> tuple[dict | None, str | None]:
    """(quality by model, whose scores) of the run in `folder`, as its report shows them; files that do not load
    are left out (the report names them)."""
    people, judges, _problems = run_files(folder, run) if folder.is_dir() else ([], [], [])
    return quality_for(scorers(people, judges))


def export(report: RunReport) -> list[Path]:
    """report.md, report.csv and report.json into the run's folder, each replaced atomically."""
    written = []
    for name, text in zip(REPORT_FILES, (report.markdown(), report.csv(), report.json()), strict=True):
        atomic_write_text(report.folder / name, text)
        written.append(report.folder / name)
    return written


def checked(run: RunJson, prompts: str | None, notes: list[str]) -> RunJson:
    """The run with its checks recomputed from the stored answers: by the run's own prompts, or by those of the
    prompt set `prompts` names (matched by prompt id), for a run made before its prompts had checks. Own prompts
    this version cannot read (a newer check kind) leave the run's recorded results as they are, with a note."""
    if prompts is not None:
        prompt_set = load_prompt_set(find_prompt_set(prompts))
        return with_checks(run, {p.id: p.checks for p in prompt_set.prompts})
    try:
        return with_checks(run)
    except UserError as exc:
        why = plain(str(exc), keep_newlines=False)
        notes.append(f"checks of {plain(run.run_id)} not recomputed: {why}")
        return run
