"""The Benchmark tab's load levels by keys: the set-up's level, rate, duration, SLO and prompt-length fields (checked
as `fl-tui bench` checks them, handed to its process as its options, remembered), and the live view's row per
model and level, against the loopback server serving in parallel."""

import json

import pytest
from loopback_module import loopback
from test_app_bench import make_app, on_the_benchmark_tab, set_up, summary_of, view
from waiting import until

from fl_tui.bench.setup_state import setup_file
from fl_tui.connection.openai_compat import OpenAICompatBackend
from fl_tui.ui.widgets.bench import runner
from fl_tui.ui.widgets.bench.live_view import _short, live_columns

SIZE = (80, 24)


@pytest.fixture(scope="module")
def server():
    handle = loopback.start_subprocess(lifetime_s=600)
    yield handle
    handle.stop()


@pytest.fixture
def backend(server):
    backend = OpenAICompatBackend(server.url)
    yield backend
    backend.close()


async def type_into(pilot, pane, field: str, text: str) -> None:
    box = pane.query_one(f"#bench-{field}")
    box.value = ""
    box.focus()
    await pilot.press(*text)


async def test_bad_levels_are_named_at_the_field_and_nothing_starts(backend, monkeypatch):
    started = []
    monkeypatch.setattr(runner, "ChildRun", lambda *args, **kwargs: started.append(args))
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["slow-20"])
        await type_into(pilot, pane, "concurrency", "1,x")
        await type_into(pilot, pane, "rounds", "1")  # the focus leaves Concurrency: it is checked
        error = pane.query_one("#bench-form-error")
        await until(pilot, lambda: error.display, "the error under the fields", seen=lambda: error.display)
        assert str(error.render()) == "Concurrency: expected positive integers like 1,2,4, got '1,x'"
        assert pane.query_one("#bench-concurrency").has_class("-bad")
        assert not pane.query_one("#bench-rounds").has_class("-bad")

        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.focused is pane.query_one("#bench-concurrency"), "the focus on the bad field",
                    seen=lambda: app.focused)
        assert error.display and view(pane) == "bench-setup" and not pane.runner.running and started == []
        assert not setup_file().exists()  # a set-up that does not start is not remembered

        await type_into(pilot, pane, "concurrency", "1,2")  # the mark goes as soon as the field reads
        await until(pilot, lambda: not error.display, "the error gone", seen=lambda: str(error.render()))
        assert not pane.query_one("#bench-concurrency").has_class("-bad")


async def test_the_fields_become_the_benchmark_process_options_and_are_remembered(backend, monkeypatch):
    commands = []

    def child_run(command, observer, env=None):
        commands.append(command)
        raise OSError("recorded, not run")

    monkeypatch.setattr(runner, "ChildRun", child_run)
    fields = {"concurrency": "1,2,4", "rate": "poisson:5", "duration_s": "3", "slo": "ttft_ms=500,tpot_ms=50",
              "prompt_tokens": "128,1024"}
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["slow-20"])
        for field, text in fields.items():
            await type_into(pilot, pane, field, text)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: commands and not pane.runner.running, "the process started and refused",
                    seen=lambda: commands)
        (command,) = commands
        args = command[command.index("bench") + 1:]
        options = dict(zip(args[::2], args[1::2], strict=False))
        assert {k: options[k] for k in ("--concurrency", "--rate", "--duration", "--slo", "--prompt-tokens")} == {
            "--concurrency": "1,2,4", "--rate": "poisson:5", "--duration": "3", "--slo": "ttft_ms=500,tpot_ms=50",
            "--prompt-tokens": "128,1024"}
        await until(pilot, setup_file().exists, "the set-up remembered")
    remembered = json.loads(setup_file().read_text(encoding="utf-8"))["fields"]
    assert {k: remembered[k] for k in fields} == fields
    again = make_app(backend)
    async with again.run_test(size=SIZE) as pilot:
        pane = await on_the_benchmark_tab(pilot)
        await until(pilot, lambda: pane.query_one("#bench-slo").value == fields["slo"], "the set-up restored",
                    seen=lambda: pane.query_one("#bench-slo").value)
        assert {k: pane.query_one(f"#bench-{k}").value for k in fields} == fields


async def test_empty_load_fields_leave_their_options_out(backend, monkeypatch):
    commands = []

    def child_run(command, observer, env=None):
        commands.append(command)
        raise OSError("recorded, not run")

    monkeypatch.setattr(runner, "ChildRun", child_run)
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        await set_up(pilot, ["slow-20"])
        await pilot.press("ctrl+r")
        await until(pilot, lambda: commands, "the process started", seen=lambda: commands)
    (command,) = commands
    assert command[command.index("--concurrency") + 1] == "1"
    assert not {"--rate", "--duration", "--slo", "--prompt-tokens"} & set(command)


def cells(table) -> list[dict[str, str]]:
    keys = [c.key.value for c in table.ordered_columns]
    return [dict(zip(keys, map(str, table.get_row_at(i)), strict=True)) for i in range(table.row_count)]


async def test_a_sweep_shows_one_live_row_per_model_and_level_with_its_goodput(backend):
    app = make_app(backend)
    async with app.run_test(size=SIZE) as pilot:
        pane = await set_up(pilot, ["slow-20", "slow-50"], rounds="2", max_tokens="4")
        await type_into(pilot, pane, "warmup", "0")
        await type_into(pilot, pane, "concurrency", "1,2")
        await type_into(pilot, pane, "slo", "tpot_ms=40")
        await pilot.press("ctrl+r")
        table = pane.query_one("#bench-rows")
        await until(pilot, lambda: view(pane) == "bench-live" and table.row_count == 4, "a row per model and level",
                    seen=lambda: (view(pane), table.row_count))
        assert [(r["Model"], r["Level"]) for r in cells(table)] == [
            ("slow-20", "c1"), ("slow-20", "c2"), ("slow-50", "c1"), ("slow-50", "c2")]
        assert sum(c.width + 2 * table.cell_padding for c in table.ordered_columns) <= SIZE[0]
        await summary_of(pilot, pane)
        run = pane.summary.run
        await pilot.press("v")  # back to the live view, drawn with the run's last events
        await until(pilot, lambda: view(pane) == "bench-live", "the live view again", seen=lambda: view(pane))
        shown = cells(table)
    assert [(m.model, m.concurrency) for m in run.models] == [
        ("slow-20", 1), ("slow-20", 2), ("slow-50", 1), ("slow-50", 2)]
    for row, entry in zip(shown, run.models, strict=True):
        assert (row["Status"], row["Done"]) == ("done", "4/4")  # 2 rounds x 2 prompts at each level
        assert row["SLO%"] == f"{entry.slo_fraction:.0%}" and row["good/s"] == _short(entry.goodput_rps)
        assert row["TTFT95"] == _short(entry.summary["ttft_ms"]["p95"])
    by_model = {m.model: m.slo_fraction for m in run.models}
    assert by_model["slow-20"] == 1.0 and by_model["slow-50"] == 0.0  # a token each 20 ms meets 40, each 50 does not


@pytest.mark.parametrize(("swept", "slo"), [(False, False), (True, False), (False, True), (True, True)])
def test_every_set_of_live_columns_fits_80_columns(swept, slo):
    columns = live_columns(swept, slo)
    assert sum(width + 2 for _label, width in columns) <= 80  # the table's cell padding: one each side
    assert ("Level" in dict(columns), "SLO%" in dict(columns)) == (swept, slo)


async def test_also_at_runs_the_matrix_against_more_endpoints_and_names_them_apart(backend, server, tmp_path):
    second = loopback.start_subprocess(lifetime_s=600, serialize=True)
    try:
        app = make_app(backend)
        async with app.run_test(size=SIZE) as pilot:
            pane = await set_up(pilot, ["slow-20"], rounds="1", max_tokens="4")
            await type_into(pilot, pane, "warmup", "0")
            await type_into(pilot, pane, "endpoints", second.url)
            await pilot.press("ctrl+r")
            table = pane.query_one("#bench-rows")
            await until(pilot, lambda: view(pane) == "bench-live" and table.row_count == 2, "a row per endpoint",
                        seen=lambda: (view(pane), table.row_count))
            assert [(r["Model"], r["Level"]) for r in cells(table)] == [("slow-20", "#1"), ("slow-20", "#2")]
            legend = str(pane.query_one("#bench-legend").render())
            assert legend == f"endpoints, one at a time: #1 {server.url[7:]}  #2 {second.url[7:]}"
            rows = await summary_of(pilot, pane)
            run = pane.summary.run
        assert [(m.endpoint, m.status) for m in run.models] == [(server.url, "ok"), (second.url, "ok")]
        assert [row[:3] for row in rows] == [["slow-20", server.url, "ok"], ["slow-20", second.url, "ok"]]
        assert len(second.records("slow-20")) == 2  # the quick set's two prompts, one round
        remembered = json.loads(setup_file().read_text(encoding="utf-8"))["fields"]
        assert remembered["endpoints"] == second.url
    finally:
        second.stop()


def test_endpoints_with_credentials_are_not_remembered(tmp_path):
    from fl_tui.bench.setup_state import BenchSetup, FieldError, read_endpoints, save_setup

    path = tmp_path / "setup.json"
    save_setup(BenchSetup(("m",), "quick", {"endpoints": "http://ann:secret@box:5273"}), path)
    assert "secret" not in path.read_text(encoding="utf-8")
    assert json.loads(path.read_text(encoding="utf-8"))["fields"]["endpoints"] == ""
    assert read_endpoints({"endpoints": "box:5273, http://other:8080/v1"}) == ("http://box:5273", "http://other:8080")
    with pytest.raises(FieldError, match=r"Also at: .*box:5273 is named twice"):
        read_endpoints({"endpoints": "box:5273,http://box:5273"})
    with pytest.raises(FieldError, match=r"Also at: "):
        read_endpoints({"endpoints": "ftp://box"})
