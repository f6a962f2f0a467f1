"""Pairwise mode of the Annotate tab by keys, on a real run of both demo models: `m` switches, the verdicts, skip and
undo typed are what the file holds, the answers stand side by side only when wide, text is drawn literally, and the
results show the ranking."""

import asyncio
import json

import pytest
from test_app_annotate import make_app, settle, shown_text
from waiting import mounted, until

from fl_tui.annotate.pairwise import PairwiseSession, pairwise_path
from fl_tui.bench.engine import BenchEngine, BenchSettings
from fl_tui.core.prompts import load_prompt_set
from fl_tui.core.resources import find_prompt_set
from fl_tui.ui.widgets.annotate.pairs import WIDE

MARKUP = "[bold red]not bold[/] \x1b[31mnot red"


@pytest.fixture
def run_dir(embedded, tmp_path, monkeypatch):
    """Both demo models, the quick prompts, 2 rounds: 4 pairs; one answer holds markup and an escape sequence."""
    monkeypatch.setenv("FL_TUI_HOME", str(tmp_path / "home"))
    from fl_tui.core import locations

    folder = locations.runs_dir() / "run-p"
    engine = BenchEngine(embedded, ["fl-demo-fast", "fl-demo-slow"], load_prompt_set(find_prompt_set("quick")),
                         BenchSettings(rounds=2, warmup=0, max_tokens=16), folder)
    asyncio.run(engine.run())
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    for request in run["requests"]:
        request["text"] = f"{MARKUP} {request['id']}"
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return folder


async def pairwise_tab(pilot):
    await pilot.press("3")
    pane = await mounted(pilot, "#annotate-pane")
    await until(pilot, lambda: pane.view is not None, "the run open on the Annotate tab", seen=lambda: pane.view)
    await pilot.press("m")
    await until(pilot, lambda: pane.mode == "pairwise" and pane.pair_view is not None, "pairwise mode",
                seen=lambda: (pane.mode, pane.pair_view))
    return pane


def verdicts(run_dir) -> list:
    data = json.loads(pairwise_path(run_dir, "tester").read_text(encoding="utf-8"))
    return [p["verdict"] for p in data["pairs"]]


async def test_judging_by_keys_is_what_the_file_holds_and_undo_resumes(embedded, run_dir):
    app = make_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await pairwise_tab(pilot)
        assert pane.pair_view.total == 4 and pane.pair_view.model_a is None  # blind
        await pilot.press("a", "x", "k")
        await settle(pane, pilot)
        assert verdicts(run_dir) == ["a", "both_bad", "skipped", None]
        assert pane.pair_view.index == 3 and pane.pair_view.judged == 2 and pane.pair_view.skipped == 1
        await pilot.press("z")
        await settle(pane, pilot)
        assert verdicts(run_dir) == ["a", "both_bad", None, None] and pane.pair_view.index == 2
        await pilot.press("b", "t")
        await settle(pane, pilot)
        assert verdicts(run_dir) == ["a", "both_bad", "b", "tie"]
        await pilot.press("left", "left")
        await settle(pane, pilot)
        assert pane.pair_view.index == 1 and pane.pair_view.verdict == "both_bad"
        await pilot.press("m")  # back to rubric scoring: the digits score again
        await settle(pane, pilot)
        assert pane.mode == "rubric"
        await pilot.press("4")
        await settle(pane, pilot)
        assert pane.view.item.overall == 4

    session = PairwiseSession.open(run_dir, "tester")  # after a restart, undo goes on where the keys left it
    assert session.undo() and session.undo() and verdicts(run_dir) == ["a", "both_bad", None, None]


@pytest.mark.parametrize("size", [(80, 24), (120, 30)])
async def test_answers_side_by_side_when_wide_stacked_when_narrow_and_drawn_literally(embedded, run_dir, size):
    app = make_app(embedded)
    async with app.run_test(size=size) as pilot:
        pane = await pairwise_tab(pilot)
        await settle(pane, pilot)
        a, b = app.query_one("#pair-a"), app.query_one("#pair-b")
        if size[0] >= WIDE:
            assert b.region.x > a.region.right - 1 and b.region.y == a.region.y
        else:
            assert b.region.x == a.region.x and b.region.y > a.region.y
        assert a.region.height > 1 and a.region.y < size[1] - 2  # the answer is on screen at 80x24 too
        text = shown_text(a)
        assert "[bold red]not bold[/]" in text and "not red" in text and "\x1b" not in text
        head = shown_text(app.query_one("#pair-head"))
        assert "1/4" in head and "judged 0/4" in head
        keys = shown_text(app.query_one("#pair-keys"))
        assert "x both bad" in keys and app.query_one("#pair-keys").size.height == 1


async def test_results_show_the_ranking_of_the_verdicts(embedded, run_dir):
    app = make_app(embedded)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await pairwise_tab(pilot)
        await pilot.press("r")
        await settle(pane, pilot)
        winner = pane.pair_view.model_a
        for _ in range(4):  # the same model wins every pair, on whichever side it is
            await pilot.press("a" if pane.pair_view.model_a == winner else "b")
            await settle(pane, pilot)
        await pilot.press("s")
        await until(pilot, lambda: type(app.screen).__name__ == "TextScreen", "the results", seen=lambda: app.screen)
        text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "over 4 judged pairs" in text
        assert f"1. {winner}:" in text and "4 points" in text
