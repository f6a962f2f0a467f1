"""`fl-tui report RUN` as a person runs it, on a synthetic run folder: what it prints beside the report, once."""

from conftest import run_cli
from test_annotate_store import make_run, write_run

from fl_tui.annotate.session import OVERALL, ScoringSession


def scored_by(folder, *raters: str):
    """Every answer scored (overall only) by each rater, each a little differently."""
    for shift, rater in enumerate(raters):
        session = ScoringSession.open(folder, rater, overall_only=True, blind=False)
        for index in range(session.total):
            session.goto(index)
            session.set_score(OVERALL, 1 + (index + shift) % 5)
        session.close()
    return folder


def test_the_agreement_of_three_people_is_printed_once(tmp_path):
    """report.md's Raters section gives the folder's people's Krippendorff's alpha: not a second line after it."""
    folder = scored_by(write_run(tmp_path / "run", make_run()), "ann", "bob", "cy")
    result = run_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Krippendorff's alpha") == 1 and "Agreement over everyone" in result.stdout
    as_csv = run_cli("report", str(folder), "--format", "csv")  # the CSV has no Raters section: said on stderr
    assert as_csv.stderr.count("Krippendorff's alpha") == 1 and "alpha" not in as_csv.stdout


def test_two_people_get_their_kappa_beside_the_report(tmp_path):
    folder = scored_by(write_run(tmp_path / "run", make_run()), "ann", "bob")
    result = run_cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("agreement (Cohen's kappa, quadratic weights) of ann, bob") == 1
