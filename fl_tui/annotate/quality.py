"""The quality figures shown beside speed: from a run's annotation files, people's or a judge's, never mixed."""

from __future__ import annotations

from pathlib import Path

from fl_tui.annotate.session import ScoringSession
from fl_tui.annotate.stats import agreement, agreement_text, judge_agreement, judge_agreement_text, quality_by_model
from fl_tui.annotate.store import AnnotationFile, list_annotation_files, load_annotations
from fl_tui.bench.report import quality_text
from fl_tui.bench.runschema import RunJson
from fl_tui.core.errors import FileProblem, UserError
from fl_tui.core.textsafe import plain


def run_files(run_dir: Path, run: RunJson) -> tuple[list[AnnotationFile], list[AnnotationFile], list[FileProblem]]:
    """The run's annotation files that load, people's and judges' apart, and the problems of those that do not."""
    people, judges, problems = [], [], []
    for path in list_annotation_files(run_dir):
        try:
            file = load_annotations(path, run)
        except FileProblem as exc:
            problems.append(exc)
            continue
        (judges if file.judged else people).append(file)
    return people, judges, problems


def judge_section(people: list[AnnotationFile], judges: list[AnnotationFile]) -> list[str]:
    """report.md's "Judge vs people": each judge's agreement with people's scores, when the run has both."""
    if not (people and judges):
        return []
    return ["", "## Judge vs people", "",
            "Over the answers a judge model and people both scored completely; people's score of an answer is the "
            "median of theirs (rounded half up) for the kappa, their mean for the difference.", "",
            *(f"- {plain(judge_agreement_text(judge_agreement(people, j)), keep_newlines=False)}" for j in judges)]


def quality_for(files: list[AnnotationFile]) -> tuple[dict | None, str | None]:
    """(quality by model, the label saying whose scores they are); person-made and judged scores are never mixed."""
    if not files:
        return None, None
    judged = {f.judged for f in files}
    if len(judged) > 1:
        raise UserError("a Quality column shows either people's scores or a judge model's, not both: "
                        "pass the files of one kind to --annotations")
    raters = ", ".join(f.rater for f in files)
    is_judged = judged == {True}
    label = f"judged by {raters}" if is_judged else f"scored by {raters}"
    return quality_by_model(files, include_judges=is_judged), label


def labelled(run: RunJson, label: str | None) -> RunJson:
    """The run with the quality label in its settings, for the reports (run.json itself is not touched)."""
    return run if label is None else run.model_copy(update={"settings": {**run.settings, "quality": label}})


def results_text(session: ScoringSession) -> str:
    """The Annotate tab's results: every person's scores of the session's run, per model, with agreement. Counts
    the answers the way the tab's "scored" counter does (store.Completion)."""
    files, judges, problems = run_files(session.path.parent, session.run)
    lines = [f"Quality of run {plain(session.run_id)}: people's scores, mean [95% interval] (n answers)",
             "Answers scored completely only; F1 lists how the interval is defined.", ""]
    quality = quality_by_model(files)
    for model, q in quality.items():
        partly = f" · {q['partly']} partly scored, left out" if q.get("partly") else ""
        lines.append(f"{plain(model)}: {quality_text(q)}{partly}")
        lines += [f"    {plain(a)}: {s['mean']:.2f} (n={s['n']})" for a, s in (q.get("aspects") or {}).items()]
    if not quality:
        lines.append("No answer is scored completely yet (overall and every aspect).")
    if len(files) > 1:
        lines += ["", agreement_text(agreement(files))]
    if files and judges:
        lines += ["", "How far the judge can be trusted, on the answers people scored too:"]
        lines += [plain(judge_agreement_text(judge_agreement(files, j))) for j in judges]
    lines += [f"left out: {plain(str(p))}" for p in problems]
    return "\n".join(lines)
