"""Pairwise judging on a real run (`fl-tui bench` against `fl-tui serve`, quick set, 2 rounds, both demo models):
the pairs, the seeded order, verdicts, undo (across a restart too), skip, reveal, resume, the file's checks, the
export and the report's section; and pairs for many models on synthetic runs."""

import csv
import io
import json
import shutil
from collections import Counter

import pytest
from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fl_tui.annotate.pairstats import results
from fl_tui.annotate.pairwise import (
    ALL_PAIRS_UP_TO,
    PAIRWISE_SCHEMA,
    PairwiseSession,
    build_pairs,
    load_pairwise,
)
from fl_tui.annotate.session import NothingToScore
from fl_tui.bench.runfiles import read_run
from fl_tui.bench.runschema import as_run
from fl_tui.cli.annotate_cmd import PAIRWISE_COLUMNS, pairwise_rows
from fl_tui.core.errors import FileProblem
from fl_tui.demo.build import FAST, SLOW


@pytest.fixture
def run_dir(bench_run, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("run.json", "requests.jsonl"):
        shutil.copy(bench_run / name, out)
    return out


def on_disk(session: PairwiseSession) -> dict:
    return json.loads(session.path.read_text(encoding="utf-8"))


def test_pairs_are_two_models_answers_to_one_prompt_and_round_in_seeded_order(run_dir):
    session = PairwiseSession.open(run_dir, "Ann", seed=7)
    run = read_run(run_dir)
    data = on_disk(session)
    assert session.path == run_dir / "pairwise.ann.json" and not session.resumed
    assert data["schema"] == PAIRWISE_SCHEMA and data["seed"] == 7 and data["rater"] == "Ann"
    assert len(data["pairs"]) == 4 and not data["sampled"]  # 2 prompts x 2 rounds, one model pair each
    requests = {r.id: r for r in run.requests}
    for pair in data["pairs"]:
        a, b = requests[pair["a"]["request_id"]], requests[pair["b"]["request_id"]]
        assert {a.model, b.model} == {FAST.model_id, SLOW.model_id}
        assert (a.prompt_id, a.round) == (b.prompt_id, b.round) == (pair["prompt_id"], pair["round"])
        assert not a.warmup and not b.warmup
    assert data["pairs"] == [p.model_dump(mode="json") for p in build_pairs(run, 7)[0]]
    others = {json.dumps([p.model_dump(mode="json") for p in build_pairs(run, s)[0]]) for s in range(20)}
    assert len(others) > 1  # the seed changes the order or the sides
    sides = {p.a.model for s in range(20) for p in build_pairs(run, s)[0]}
    assert sides == {FAST.model_id, SLOW.model_id}  # either model may be on the left


def test_names_are_hidden_until_revealed_and_revealing_is_saved(run_dir):
    session = PairwiseSession.open(run_dir, "ann", seed=1)
    view = session.view()
    assert view.model_a is None and view.model_b is None and view.answer_a and view.prompt
    session.show_models(True)
    assert session.view().model_a in (FAST.model_id, SLOW.model_id) and on_disk(session)["revealed"] is True
    session.show_models(False)
    assert session.view().model_a is None


def test_verdicts_undo_any_number_of_steps_across_a_restart(run_dir):
    session = PairwiseSession.open(run_dir, "ann", seed=3)
    session.judge("a")
    session.judge("both_bad")
    session.judge("skipped")
    assert [p["verdict"] for p in on_disk(session)["pairs"]] == ["a", "both_bad", "skipped", None]
    assert session.index == 3 and session.view().judged == 2 and session.view().skipped == 1
    assert session.undo() and session.index == 2
    assert [p["verdict"] for p in on_disk(session)["pairs"]] == ["a", "both_bad", None, None]

    again = PairwiseSession.open(run_dir, "ann")  # a restart: the history is in the file
    assert again.resumed and again.index == 2 and len(again.file().history) == 2
    again.index = 0
    again.judge("tie")  # a change of a verdict is undone to the verdict before it
    assert again.undo() and again.index == 0 and on_disk(again)["pairs"][0]["verdict"] == "a"
    assert again.undo() and again.undo() and not again.undo()
    data = on_disk(again)
    assert [p["verdict"] for p in data["pairs"]] == [None] * 4 and data["history"] == []
    assert all(p["judged_at"] is None for p in data["pairs"])


def test_judging_moves_to_the_next_open_pair_and_resumes_there(run_dir):
    session = PairwiseSession.open(run_dir, "ann", seed=5)
    session.index = 1
    session.judge("b")
    assert session.index == 2
    session.judge("a")
    session.judge("tie")
    assert session.index == 0  # wraps round to the one left
    resumed = PairwiseSession.open(run_dir, "ann")
    assert resumed.index == 0 and resumed.view().judged == 3 and not resumed.revealed
    resumed.judge("a")
    assert resumed.revealed  # every pair judged: the names are shown
    assert resumed.index == 0 and not resumed.move(-1) and resumed.move(3) and not resumed.move(1)


def test_pairs_a_run_gained_after_the_file_was_made_are_added_at_the_end(run_dir):
    full = (run_dir / "run.json").read_text(encoding="utf-8")
    run = json.loads(full)
    run["requests"] = [r for r in run["requests"] if r["round"] == 1 or r["warmup"]]  # a run still going
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    session = PairwiseSession.open(run_dir, "ann", seed=6)
    assert session.total == 2
    session.judge("b")
    first = session.file().pairs
    (run_dir / "run.json").write_text(full, encoding="utf-8")  # it went on: round 2 answered too
    again = PairwiseSession.open(run_dir, "ann")
    pairs = again.file().pairs
    assert again.total == 4 and pairs[:2] == first and {p.round for p in pairs[2:]} == {2}
    assert on_disk(again)["pairs"][0]["verdict"] == "b" and len(on_disk(again)["pairs"]) == 4


def test_a_bad_file_is_reported_with_its_place_and_left_as_it_is(run_dir):
    session = PairwiseSession.open(run_dir, "ann", seed=2)
    data = on_disk(session)
    data["pairs"][1]["verdict"] = "maybe"
    text = json.dumps(data, indent=2)
    session.path.write_text(text)
    with pytest.raises(FileProblem) as exc:
        PairwiseSession.open(run_dir, "ann")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if '"maybe"' in s)
    assert exc.value.line == line and exc.value.col > 1 and "pairs.1.verdict" in str(exc.value)
    assert session.path.read_text() == text
    data["pairs"][1]["verdict"] = None
    data["pairs"][1]["b"] = data["pairs"][1]["a"]
    session.path.write_text(json.dumps(data, indent=2))
    with pytest.raises(FileProblem, match="both sides are the same model"):
        load_pairwise(session.path)
    data = on_disk(PairwiseSession.open(run_dir, "bob", seed=2))
    model = data["pairs"][0]["a"]["model"]
    data["pairs"][0]["a"]["model"] = "someone-else"
    (run_dir / "pairwise.bob.json").write_text(json.dumps(data, indent=2))
    with pytest.raises(FileProblem, match="is not 'someone-else'"):
        load_pairwise(run_dir / "pairwise.bob.json", read_run(run_dir))
    data["history"] = [{"pair": 9, "before": None, "after": "a"}]
    data["pairs"][0]["a"]["model"] = model
    (run_dir / "pairwise.bob.json").write_text(json.dumps(data, indent=2))
    with pytest.raises(FileProblem, match=r"history\.0\.pair: no pair 9"):
        load_pairwise(run_dir / "pairwise.bob.json")


def synthetic_run(models: int, prompts: int = 3) -> dict:
    requests = [{"id": f"m{m}-p{p}", "model": f"model-{m}", "prompt_id": f"p{p}", "round": 1, "warmup": False,
                 "status": "ok", "text": "x"} for m in range(models) for p in range(prompts)]
    return {"run_id": "r", "requests": requests}


def test_few_models_give_every_pair_and_many_a_balanced_sample():
    pairs, sampled = build_pairs(as_run(synthetic_run(ALL_PAIRS_UP_TO)), seed=1)
    assert not sampled and len(pairs) == 3 * ALL_PAIRS_UP_TO * (ALL_PAIRS_UP_TO - 1) // 2
    assert len({p.key() for p in pairs}) == len(pairs)
    pairs, sampled = build_pairs(as_run(synthetic_run(9)), seed=1)
    assert sampled and len(pairs) == 3 * 9
    per_model = Counter(m for p in pairs for m in (p.a.model, p.b.model))
    assert set(per_model.values()) == {6}  # each model in two pairs per prompt
    assert all(p.a.model != p.b.model for p in pairs)


def test_a_run_of_one_model_has_nothing_to_judge(tmp_path):
    run = synthetic_run(1)
    assert build_pairs(as_run(run), 1) == ([], False)
    folder = tmp_path / "one"
    folder.mkdir()
    from fl_tui.bench.records import RUN_SCHEMA

    (folder / "run.json").write_text(json.dumps({"schema": RUN_SCHEMA, **run, "models": []}))
    with pytest.raises(NothingToScore, match="no pairs to judge"):
        PairwiseSession.open(folder, "ann")


def test_export_writes_a_row_per_verdict(run_dir):
    session = PairwiseSession.open(run_dir, "ann", seed=4)
    session.judge("a")
    session.judge("both_bad")
    first = session.file().pairs[0]
    result = run_cli("annotate", "export", str(run_dir), "--pairwise")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 and set(rows[0]) == set(PAIRWISE_COLUMNS)
    assert rows[0]["winner"] == first.a.model and rows[0]["request_b"] == first.b.request_id
    assert rows[1]["verdict"] == "both_bad" and rows[1]["winner"] == "both_bad" and rows[1]["pair"] == 1
    out = run_dir / "pairs.csv"
    written = run_cli("annotate", "export", str(run_dir), "--pairwise", "--format", "csv", "--out", str(out))
    assert written.returncode == 0 and "2 verdicts written" in written.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(table[0]) == list(PAIRWISE_COLUMNS) and table[0]["model_a"] == first.a.model
    missing = run_cli("annotate", "export", str(run_dir), "--pairwise", "--rater", "cy")
    assert missing.returncode == 2 and "no pairwise file for rater 'cy'" in missing.stderr
    assert "pairwise.ann.json" in missing.stderr and "Traceback" not in missing.stderr


def test_report_has_a_pairwise_section_apart_from_the_rubric_scores(run_dir):
    assert "Pairwise ranking" not in run_cli("report", str(run_dir)).stdout
    session = PairwiseSession.open(run_dir, "ann", seed=4)
    assert "## Pairwise ranking\n\nNo pair is judged yet." in run_cli("report", str(run_dir)).stdout
    session.show_models(True)
    for _ in range(4):
        pair = session.file().pairs[session.index]
        session.judge("a" if pair.a.model == SLOW.model_id else "b")  # the slow model wins every pair
    result = run_cli("report", str(run_dir))
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("## Pairwise ranking", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert SLOW.model_id in rows[0] and FAST.model_id in rows[1]
    assert "ann" in section and "4 judged pairs" in section
    assert f"| {FAST.model_id} | {SLOW.model_id} | 0 | 0 | 0 | 4 | 4 |" in section \
        or f"| {SLOW.model_id} | {FAST.model_id} | 4 | 0 | 0 | 0 | 4 |" in section
    assert "## Pairwise ranking" in (run_dir / "report.md").read_text(encoding="utf-8")


HOSTILE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6),
              st.sampled_from(["\ud800", "\x1b[31m", "a", "b", "tie", "skipped", -1, 10**30])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(["top", "pair", "side", "change"]),
       key=st.sampled_from(["schema", "run_id", "rater", "seed", "pairs", "history", "prompt_id", "round", "a", "b",
                            "verdict", "request_id", "model", "pair", "before", "after", "extra"]),
       value=HOSTILE)
def test_a_hostile_pairwise_file_loads_whole_or_is_a_file_problem(tmp_path, where, key, value):
    run = as_run(synthetic_run(3, prompts=2))
    pairs, _ = build_pairs(run, 1)
    pairs[0].verdict = "a"
    data = {"schema": PAIRWISE_SCHEMA, "run_id": "r", "rater": "ann", "seed": 1, "sampled": False, "revealed": False,
            "pairs": [p.model_dump(mode="json") for p in pairs], "history": [{"pair": 0, "before": None, "after": "a"}]}
    target = {"top": data, "pair": data["pairs"][0], "side": data["pairs"][0]["a"], "change": data["history"][0]}
    target[where][key] = value
    path = tmp_path / "pairwise.ann.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        file = load_pairwise(path, run)
    except FileProblem as problem:
        assert problem.line is not None, problem  # a place an editor can jump to
        return
    results([file])  # what reads a loaded file does not crash on it
    pairwise_rows([file])
