"""`fl-tui annotate export`, `fl-tui report --annotations` and `fl-tui judge`, run as a person runs them, on a real run
(`fl-tui bench` against `fl-tui serve`, quick set); the judge's strict reply parser on its own."""

import csv
import io
import json
import shutil

import httpx
import pytest
from conftest import run_cli

from fl_tui.annotate.judge import ReplyProblem, judge_prompt, judge_run, parse_reply
from fl_tui.annotate.rubric import BUILTIN_SCALE, Rubric
from fl_tui.annotate.session import OVERALL, ScoringSession
from fl_tui.annotate.store import AnnotationItem, new_file
from fl_tui.cli.annotate_cmd import EXPORT_COLUMNS, export_rows
from fl_tui.demo.build import FAST, SLOW


@pytest.fixture
def run_dir(bench_run, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("run.json", "requests.jsonl"):
        shutil.copy(bench_run / name, out)
    return out


def score(run_dir, rater: str, values: list[int | None], note: str = "") -> ScoringSession:
    """Overall scores in the file's order (not blind, so the order is the run's)."""
    session = ScoringSession.open(run_dir, rater, overall_only=True, blind=False)
    for index, value in enumerate(values):
        session.goto(index)
        if value is not None:
            session.set_score(OVERALL, value)
        if note:
            session.set_note(note)
    return session


def table_header(markdown: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith("| Model"))
    return [c.strip() for c in line.strip("|").split("|")]


def table_rows(markdown: str) -> dict[str, list[str]]:
    """The Results table's rows by model (later sections have tables of their own)."""
    rows = {}
    for line in markdown.split("## Results", 1)[1].split("\n## ", 1)[0].splitlines():
        if line.startswith("| fl-demo"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells
    return rows


# -- export ------------------------------------------------------------------------------------------------------


def test_export_jsonl_every_item_of_every_file(run_dir):
    score(run_dir, "ann", [5, 4, 3, 2, 1, 2, 3, None])
    score(run_dir, "bob", [4, 4, 4, 4, 4, 4, 4, 4])
    result = run_cli("annotate", "export", str(run_dir))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 16 and set(rows[0]) == set(EXPORT_COLUMNS)
    ann = [r for r in rows if r["rater"] == "ann"]
    assert [r["overall"] for r in ann] == [5, 4, 3, 2, 1, 2, 3, None]
    assert [r["completion"] for r in ann] == ["scored"] * 7 + ["unscored"]  # overall-only: the overall is all
    assert {r["model"] for r in rows} == {FAST.model_id, SLOW.model_id} and not any(r["judged"] for r in rows)
    only = run_cli("annotate", "export", str(run_dir / "run.json"), "--rater", "bob")
    assert only.returncode == 0 and {json.loads(line)["rater"] for line in only.stdout.splitlines()} == {"bob"}
    missing = run_cli("annotate", "export", str(run_dir), "--rater", "cy")
    assert missing.returncode == 2 and "no annotation file for rater 'cy'" in missing.stderr
    assert "annotations.ann.json" in missing.stderr and "Traceback" not in missing.stderr


def test_export_says_which_items_the_quality_figures_count():
    rubric = Rubric(scale=dict(BUILTIN_SCALE), aspects={"p": ("a",)})
    items = [AnnotationItem(request_id=f"r{i}", model="m", prompt_id="p", round=1, overall=overall, scores=scores)
             for i, (overall, scores) in enumerate([(4, {"a": 3}), (4, {}), (None, {"a": 2}), (None, {})])]
    rows = export_rows([new_file("run", "ann", rubric, items)])
    assert [r["completion"] for r in rows] == ["scored", "partly", "partly", "unscored"]


def test_export_csv_neutralises_formulas_and_can_write_a_file(run_dir):
    score(run_dir, "ann", [5, None], note="=HYPERLINK(\"http://x\")")
    out = run_dir / "export.csv"
    result = run_cli("annotate", "export", str(run_dir), "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and "8 items written" in result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == list(EXPORT_COLUMNS) and len(rows) == 8
    assert rows[0]["overall"] == "5" and rows[1]["overall"] == ""
    assert rows[0]["note"] == "'=HYPERLINK(\"http://x\")" and rows[0]["judged"] == "false"
    assert json.loads(rows[0]["scores"]) == {}


def test_export_without_files_and_with_a_broken_file(run_dir):
    empty = run_cli("annotate", "export", str(run_dir))
    assert empty.returncode == 2 and "no annotation files" in empty.stderr
    broken = run_dir / "annotations.ann.json"
    broken.write_text('{"schema": "fl-tui/annotations/1",\n "run_id": ')
    result = run_cli("annotate", "export", str(run_dir))
    assert result.returncode == 2 and result.stderr.startswith(f"fl-tui: {broken}:2:")
    assert broken.read_text() == '{"schema": "fl-tui/annotations/1",\n "run_id": '
    assert run_cli("annotate").returncode == 2


# -- report --------------------------------------------------------------------------------------------------------


def test_report_shows_quality_beside_ttft_and_decode(run_dir):
    ann = score(run_dir, "ann", [5, 4, 3, 2, 1, 2, 3, None])
    models = [ann.item(i).model for i in range(ann.total)]
    result = run_cli("report", str(run_dir), "--annotations", str(ann.path))
    assert result.returncode == 0, result.stderr
    header = table_header(result.stdout)
    assert header[-1] == "Quality" and "TTFT p95 (ms)" in header and "Decode tok/s" in header
    expected = {}
    for model in (FAST.model_id, SLOW.model_id):
        values = [v for m, v in zip(models, [5, 4, 3, 2, 1, 2, 3, None], strict=True) if m == model and v]
        expected[model] = (sum(values) / len(values), len(values))
    rows = table_rows(result.stdout)
    csv_rows = {r["model"]: r for r in csv.DictReader(io.StringIO((run_dir / "report.csv").read_text("utf-8")))}
    for model, (mean, n) in expected.items():
        assert n >= 3 and rows[model][-1].startswith(f"{mean:.2f} [") and rows[model][-1].endswith(f"(n={n})")
        low, high = (float(x) for x in rows[model][-1].split("[")[1].split("]")[0].split(", "))
        assert 1 <= low <= mean <= high <= 5  # on the scale
        row = csv_rows[model]
        assert float(row["quality_ci95_low"]) == pytest.approx(low, abs=0.005) and int(row["quality_n"]) == n
        assert 1 <= float(row["quality_ci95_low"]) <= float(row["quality_ci95_high"]) <= 5
    assert "quality scored by ann" in result.stdout
    assert "Quality" in (run_dir / "report.md").read_text(encoding="utf-8")
    assert "agreement" not in result.stdout  # one rater


def test_report_defaults_to_the_people_and_prints_agreement(run_dir):
    score(run_dir, "ann", [5, 4, 3, 2, 1, 2, 3, 4])
    score(run_dir, "bob", [5, 4, 4, 2, 1, 2, 3, None])
    judge = run_dir / "annotations.model-x.json"
    data = json.loads((run_dir / "annotations.bob.json").read_text())
    judge.write_text(json.dumps({**data, "rater": "model:x"}))
    result = run_cli("report", str(run_dir))
    assert result.returncode == 0, result.stderr
    assert table_header(result.stdout)[-1] == "Quality" and "quality scored by ann, bob" in result.stdout
    assert "agreement (Cohen's kappa, quadratic weights) of ann, bob over 7 items scored by all:" in result.stdout
    as_json = run_cli("report", str(run_dir), "--format", "json")
    quality = json.loads(as_json.stdout)["quality"]
    assert set(quality) == {FAST.model_id, SLOW.model_id} and "agreement" in as_json.stderr
    assert all(entry["raters"] == ["ann", "bob"] for entry in quality.values())

    mixed = run_cli("report", str(run_dir), "--annotations", str(judge), str(run_dir / "annotations.ann.json"))
    assert mixed.returncode == 2 and "either people's scores or a judge model's" in mixed.stderr
    judged = run_cli("report", str(run_dir), "--annotations", str(judge))
    assert judged.returncode == 0 and "quality judged by model:x" in judged.stdout
    # people and a judge in one folder: the report says how far the judge agrees with them
    section = result.stdout.split("## Judge vs people", 1)[1].split("\n## ", 1)[0]
    assert "- model:x vs people (ann, bob) over 7 answers both scored: Cohen's kappa (quadratic weights)" in section
    assert "## Judge vs people" in (run_dir / "report.md").read_text(encoding="utf-8")


def test_report_says_how_many_partly_scored_answers_it_left_out(run_dir):
    run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    run["prompts"][0]["expected_aspects"] = ["covers it"]  # its 4 answers get an overall score only: partly
    (run_dir / "run.json").write_text(json.dumps(run), encoding="utf-8")
    session = ScoringSession.open(run_dir, "ann", blind=False)
    for index in range(session.total):
        session.goto(index)
        session.set_score(OVERALL, 4)
    assert (session.progress, session.partly) == ((4, 8), 4)
    result = run_cli("report", str(run_dir))
    assert result.returncode == 0, result.stderr
    assert "4 partly scored answers left out of the Quality column" in result.stderr
    rows = table_rows(result.stdout)
    assert rows[FAST.model_id][-1] == rows[SLOW.model_id][-1] == "4.00 (n=2, n too small)"


def test_report_leaves_out_a_broken_file_it_was_not_asked_for(run_dir):
    score(run_dir, "ann", [4] * 8)
    broken = run_dir / "annotations.zed.json"
    broken.write_text("{nope")
    result = run_cli("report", str(run_dir))
    assert result.returncode == 0, result.stderr
    assert f"left out of the Quality column: {broken}:1:2: not valid JSON" in result.stderr
    assert table_rows(result.stdout)[FAST.model_id][-1].startswith("4.00")
    assert broken.read_text() == "{nope"
    named = run_cli("report", str(run_dir), "--annotations", str(broken))
    assert named.returncode == 2 and f"{broken}:1:2" in named.stderr
    plain = run_cli("report", str(run_dir), "--annotations", str(run_dir / "none.json"))
    assert plain.returncode == 2 and "cannot read" in plain.stderr


# -- judge ---------------------------------------------------------------------------------------------------------


def test_judge_counts_retries_and_leaves_gibberish_unscored(run_dir, served):
    """The demo models write gibberish: every reply is unparseable, so each item takes 3 attempts and stays
    unscored with the reason in its note."""
    result = run_cli("--endpoint", served.url, "judge", str(run_dir), "--model", "fl-demo-fast", "--limit", "2",
                     timeout=120)
    assert result.returncode == 1, result.stderr
    assert "2 items judged, 0 scored, 2 unscored; 6 attempts, 4 retries (6 unparseable replies" in result.stdout
    path = run_dir / "annotations.model-fl-demo-fast-generic-cpu-1.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["rater"] == f"model:{FAST.model_id}" == "model:fl-demo-fast-generic-cpu:1"
    assert data["judge"] == {"model": FAST.model_id, "attempts": 6, "retries": 4, "unparseable": 6,
                             "request_errors": 0}
    assert data["blind"] is False and len(data["items"]) == 8
    for item in data["items"][:2]:
        assert item["attempts"] == 3 and item["overall"] is None and item["scores"] == {}
        assert item["note"].startswith("judge: no usable reply after 3 attempts; last: unparseable reply: ")
    assert all("attempts" not in item and item["note"] == "" for item in data["items"][2:])

    again = run_cli("--endpoint", served.url, "judge", str(run_dir), "--model", "fl-demo-fast", "--limit", "1",
                    timeout=120)
    assert again.returncode == 1
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["items"][0]["attempts"] == 6 and data["judge"]["attempts"] == 9  # unscored items are judged again

    report = run_cli("report", str(run_dir), "--annotations", str(path))
    assert report.returncode == 0 and f"quality judged by model:{FAST.model_id}" in report.stdout
    assert table_header(report.stdout)[-1] == "Quality"
    assert "(n=" not in report.stdout  # nothing scored: the column stays empty
    default = run_cli("report", str(run_dir))  # nobody else scored: the judge's scores fill it, labelled so
    assert f"quality judged by model:{FAST.model_id}" in default.stdout
    assert table_header(default.stdout)[-1] == "Quality"


def sse(text: str) -> bytes:
    chunks = [{"choices": [{"delta": {"content": text}, "finish_reason": None}]},
              {"choices": [{"delta": {}, "finish_reason": "stop"}]}]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


async def test_judge_scores_a_usable_reply_and_retries_with_the_reason(run_dir):
    """A scripted server: gibberish first, then the JSON object. The retry says what was wrong; the item is scored
    after 2 attempts, and a server error counts as a failed request, not an unparseable reply."""
    replies = iter([(200, sse("I think it is fine")), (200, sse('{"scores": {}, "overall": 4}')),
                    (500, b'{"error": {"message": "overloaded"}}'), (200, sse('```json\n{"overall": 2}\n```'))])
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        status, content = next(replies)
        return httpx.Response(status, stream=httpx.ByteStream(content), headers={"content-type": "text/event-stream"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        summary = await judge_run(client, "http://judge/v1", run_dir, "judge-model:1", limit=2)
    assert [(o.attempts, o.scored, o.overall) for o in summary.outcomes] == [(2, True, 4), (2, True, 2)]
    assert (summary.attempts, summary.retries, summary.unparseable, summary.request_errors) == (4, 2, 1, 1)
    assert bodies[0]["model"] == "judge-model:1" and bodies[0]["temperature"] == 0.0
    assert "could not be used (not a JSON object" in bodies[1]["messages"][-1]["content"]
    data = json.loads(summary.path.read_text(encoding="utf-8"))
    assert summary.path.name == "annotations.model-judge-model-1.json" and data["rater"] == "model:judge-model:1"
    assert [(i["overall"], i["attempts"], i["note"]) for i in data["items"][:2]] == [(4, 2, ""), (2, 2, "")]
    assert data["judge"] == {"model": "judge-model:1", "attempts": 4, "retries": 2, "unparseable": 1,
                             "request_errors": 1}


def test_judge_refuses_bad_arguments_before_starting_anything(run_dir, tmp_path):
    assert "--limit must be positive" in run_cli("judge", str(run_dir), "--model", "x", "--limit", "0").stderr
    missing = run_cli("judge", str(tmp_path / "nowhere"), "--model", "x")
    assert missing.returncode == 2 and "cannot read" in missing.stderr


# -- the reply parser ----------------------------------------------------------------------------------------------

ASPECTS = ("names retrieval", "two sentences")


def test_parse_reply_accepts_exactly_the_format():
    good = '{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": 4}'
    assert parse_reply(good, ASPECTS) == ({"names retrieval": 4, "two sentences": 5}, 4)
    assert parse_reply(f"```json\n{good}\n```", ASPECTS)[1] == 4
    assert parse_reply('  {"overall": 2}\n', ()) == ({}, 2)
    assert parse_reply('{"scores": {}, "overall": 5}', ()) == ({}, 5)


@pytest.mark.parametrize(("reply", "reason"), [
    ("", "empty reply"),
    ("The answer is good. 4/5", "not a JSON object"),
    ('Sure! {"scores": {}, "overall": 4}', "not a JSON object"),
    ("[4]", "expected a JSON object"),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}}', '"overall" is missing'),
    ('{"overall": 4}', '"scores" is missing'),
    ('{"scores": {"names retrieval": 4}, "overall": 4}', "lacks the aspect"),
    ('{"scores": {"names retrieval": 4, "two sentences": 5, "style": 3}, "overall": 4}', "not one of the expected"),
    ('{"scores": {"names retrieval": 4, "two sentences": 6}, "overall": 4}', "whole number from 1 to 5, not 6"),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": 4.0}', "not 4.0"),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": "4"}', 'not "4"'),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": true}', "not true"),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": NaN}', "NaN is not a score"),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": 4, "why": "x"}', 'unexpected key "why"'),
    ('{"scores": {"names retrieval": 4, "two sentences": 5}, "overall": 4, "overall": 5}', "appears twice"),
    ('{"scores": [4, 5], "overall": 4}', '"scores" must be an object'),
    ("[" * 100_000, "not a JSON object"),
])
def test_parse_reply_refuses_everything_else(reply, reason):
    with pytest.raises(ReplyProblem) as caught:
        parse_reply(reply, ASPECTS)
    assert reason in str(caught.value)


def test_judge_prompt_gives_scale_question_aspects_and_answer():
    rubric = Rubric(scale=dict(BUILTIN_SCALE), aspects={"p1": ASPECTS})
    prompt = judge_prompt(rubric, "What is RAG?", ASPECTS, "It retrieves.")
    for text in (*BUILTIN_SCALE.values(), "What is RAG?", "It retrieves.", '"names retrieval": <1-5>', "ONLY"):
        assert text in prompt
    assert '"scores" stays empty' in judge_prompt(rubric, "Q?", (), "")


def test_the_results_screen_shows_the_judge_beside_the_people(run_dir):
    from fl_tui.annotate.quality import results_text

    session = score(run_dir, "ann", [5, 4, 3, 2, 1, 2, 3, 4])
    assert "judge" not in results_text(session)
    data = json.loads((run_dir / "annotations.ann.json").read_text())
    (run_dir / "annotations.model-x.json").write_text(json.dumps({**data, "rater": "model:x"}))
    text = results_text(session)
    assert "How far the judge can be trusted, on the answers people scored too:" in text
    assert ("model:x vs people (ann) over 8 answers both scored: Cohen's kappa (quadratic weights) 1.000, "
            "mean difference judge - people +0.00") in text
