"""The fleet report over synthetic run folders, one per host as the fleet playbook leaves them: pooled percentiles
are numpy's over every host's raw request lines (requests.jsonl) put together, each host × model is a row with its
machine beside it, and environments or settings that differ are named."""

from __future__ import annotations

import csv
import io
import json
import random

import numpy as np
import pytest
from conftest import run_cli
from runfactory import make_run, model_from, requests_for

from fl_tui.bench.records import RequestResult
from fl_tui.runs.fleet import REPORT_FILES, Outcome, load_fleet

ENV = {"os": "Linux", "kernel": "6.1", "arch": "x86_64", "cpu_model": "Xeon", "cpu_cores": 8, "ram_gib": 31.2,
       "python": "3.11.7", "fl_tui": "0.1.0", "foundry_local_sdk": "2.2.1", "onnxruntime": "1.31.0",
       "onnxruntime_genai": None, "endpoint_kind": "embedded", "endpoint_version": "2.2.1"}


def host_run(seed: int, models: tuple[str, ...] = ("alpha-cpu", "beta-gpu"), **env) -> dict:
    """A run with random figures per model, plus a warm-up and a failed request that no figure may count."""
    rng = random.Random(seed)
    requests: list[RequestResult] = []
    entries = []
    for model in models:
        n = rng.randint(3, 9)
        mine = requests_for(model, [rng.uniform(20, 400) for _ in range(n)], [rng.uniform(500, 3000) for _ in range(n)],
                            [rng.uniform(5, 90) for _ in range(n)])
        for r in mine:
            r.id = f"{model}-{seed}-{r.id}"
        entries.append(model_from(model, mine))
        requests += mine
        requests.append(RequestResult(id=f"{model}-w", model=model, prompt_id="warm-up", round=1, warmup=True,
                                      status="ok", start_ms=0.0, ttft_ms=1.0, e2e_ms=2.0, output_tokens=3))
        requests.append(RequestResult(id=f"{model}-x", model=model, prompt_id="p1", round=2, warmup=False,
                                      status="failed", error="cut", ttft_ms=99999.0, e2e_ms=99999.0))
    run = make_run(entries, requests)
    return {**run, "run_id": f"run-{seed}", "environment": {**ENV, **env}}


def write_host(folder, run: dict):
    """run.json and requests.jsonl, as `fl-tui bench` leaves them."""
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    lines = [json.dumps({"run_id": run["run_id"], **r}) for r in run["requests"]]
    (folder / "requests.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def fleet_folder(tmp_path, runs: dict[str, dict], outcomes: list[dict] | None = None):
    root = tmp_path / "fleet"
    root.mkdir()
    for host, run in runs.items():
        write_host(root / host, run)
    if outcomes is not None:
        (root / "fleet.json").write_text(json.dumps({"schema": "fl-tui/fleet/1", "started_at": "2026-01-02T03:04:05Z",
                                                     "hosts": outcomes}), encoding="utf-8")
    return root


def raw_values(root, hosts, model: str, metric: str) -> list[float]:
    """The oracle's sample: measured ok lines of every host's requests.jsonl, read with json alone."""
    values = []
    for host in hosts:
        for line in (root / host / "requests.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["model"] == model and not r["warmup"] and r["status"] == "ok":
                if metric == "itl_ms":
                    values += list(np.diff(r["chunk_offsets_ms"]))
                else:
                    values.append(r[metric])
    return values


def test_pooled_percentiles_are_numpys_over_every_hosts_raw_records(tmp_path):
    runs = {"box-a": host_run(1), "box-b": host_run(2), "box-c": host_run(3, models=("alpha-cpu",))}
    root = fleet_folder(tmp_path, runs)
    result = run_cli("report", str(root), "--format", "json")
    assert result.returncode == 0, result.stderr
    pooled = {p["model"]: p for p in json.loads(result.stdout)["pooled"]}
    assert pooled["alpha-cpu"]["hosts"] == ["box-a", "box-b", "box-c"]
    assert pooled["beta-gpu"]["hosts"] == ["box-a", "box-b"]
    for model, entry in pooled.items():
        for metric in ("ttft_ms", "e2e_ms", "decode_tps", "itl_ms"):
            sample = raw_values(root, entry["hosts"], model, metric)
            stats = entry["summary"][metric]
            assert stats["n"] == len(sample)
            for key, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
                assert stats[key] == pytest.approx(np.percentile(sample, q, method="linear"), rel=1e-12), (model,
                                                                                                            metric, key)
            assert stats["max"] == max(sample) and stats["mean"] == pytest.approx(np.mean(sample))
    # the pooled p95 is no mean of the hosts' p95s: what pooling is for
    per_host = [m["summary"]["ttft_ms"]["p95"] for r in runs.values() for m in r["models"] if m["model"] == "alpha-cpu"]
    assert pooled["alpha-cpu"]["summary"]["ttft_ms"]["p95"] != pytest.approx(np.mean(per_host))
    assert {path.name for path in root.iterdir()} >= set(REPORT_FILES)


def test_a_row_per_host_and_model_with_its_machine_beside_it(tmp_path):
    runs = {"box-a": host_run(1), "box-b": host_run(2, cpu_model="EPYC", ram_gib=64.0,
                                                    gpus=[{"name": "RTX 4090", "memory": "24564 MiB"}])}
    root = fleet_folder(tmp_path, runs)
    rows = list(csv.DictReader(io.StringIO(run_cli("report", str(root), "--format", "csv").stdout)))
    hosts = [(r["host"], r["model"], r["cpu_model"], r["ram_gib"], r["gpus"]) for r in rows if r["scope"] == "host"]
    assert hosts == [("box-a", "alpha-cpu", "Xeon", "31.2", ""), ("box-a", "beta-gpu", "Xeon", "31.2", ""),
                     ("box-b", "alpha-cpu", "EPYC", "64.0", "RTX 4090"), ("box-b", "beta-gpu", "EPYC", "64.0",
                                                                            "RTX 4090")]
    own = {m["model"]: m["summary"]["ttft_ms"]["p95"] for m in runs["box-b"]["models"]}
    row = next(r for r in rows if r["host"] == "box-b" and r["model"] == "beta-gpu")
    assert float(row["ttft_p95_ms"]) == pytest.approx(own["beta-gpu"])  # the host's own figure, as its report
    assert [r["model"] for r in rows if r["scope"] == "pooled"] == ["alpha-cpu", "beta-gpu"]

    markdown = (root / "fleet-report.md").read_text(encoding="utf-8")
    each_host = markdown.split("## Each host")[1]
    assert "| box-b | beta-gpu | ok |" in each_host and "| EPYC | 64.0 | RTX 4090 | 2.2.1 | 1.31.0 |" in each_host


def test_differing_environments_and_settings_are_named(tmp_path):
    runs = {"box-a": host_run(1), "box-b": host_run(2, cpu_model="EPYC", ram_gib=64.0),
            "box-c": {**host_run(3), "settings": {**host_run(3)["settings"], "rounds": 5}}}
    root = fleet_folder(tmp_path, runs)
    fleet = load_fleet([root])
    assert fleet.environment_differs == ["cpu_model", "ram_gib"]
    assert fleet.settings_differ == ["rounds"]
    result = run_cli("report", str(root))
    assert result.returncode == 0
    assert "warning: environments differ between hosts: cpu_model, ram_gib" in result.stderr
    assert "warning: settings differ between hosts' runs: rounds" in result.stderr
    assert "## Warnings" in result.stdout

    (tmp_path / "alike").mkdir()
    alike = load_fleet([fleet_folder(tmp_path / "alike", {"a": host_run(1), "b": host_run(2)})])
    assert alike.warnings == []


def test_fleet_json_says_which_hosts_failed_or_were_unreachable(tmp_path):
    root = fleet_folder(tmp_path, {"box-a": host_run(1), "box-b": host_run(2)}, [
        {"host": "box-a", "outcome": "ok", "seconds": 61.5},
        {"host": "box-b", "outcome": "ok"},
        {"host": "box-c", "outcome": "unreachable", "error": "ssh: connect to host 10.0.0.9 port 22: refused"},
        {"host": "box-d", "outcome": "failed", "error": "bench: exit 2: unknown model"},
        {"host": "box-e", "outcome": "ok"},  # said ok, but its run never came home
    ])
    fleet = load_fleet([root])
    assert [(h.name, h.outcome) for h in fleet.hosts] == [
        ("box-a", Outcome.OK), ("box-b", Outcome.OK), ("box-c", Outcome.UNREACHABLE), ("box-d", Outcome.FAILED),
        ("box-e", Outcome.FAILED)]
    assert fleet.hosts[0].seconds == 61.5
    assert any(note.startswith("box-e: its run is left out:") for note in fleet.notes)
    assert [p.hosts for p in fleet.pooled] == [["box-a", "box-b"], ["box-a", "box-b"]]
    markdown = fleet.markdown()
    assert "- Hosts: 5 (2 ok, 2 failed, 1 unreachable)" in markdown
    assert "| box-c | unreachable | ssh: connect to host 10.0.0.9 port 22: refused |" in markdown


def test_runs_named_one_by_one_make_a_fleet_too(tmp_path):
    a = write_host(tmp_path / "one" / "box-a", host_run(1))
    b = write_host(tmp_path / "two" / "box-b", host_run(2))
    result = run_cli("report", str(a), str(b / "run.json"), "--format", "json")
    assert result.returncode == 0, result.stderr
    assert [h["host"] for h in json.loads(result.stdout)["hosts"]] == ["box-a", "box-b"]
    assert not any((tmp_path / "one").glob("fleet-report.*"))  # no folder of their own to write into


def test_one_run_is_reported_as_before(tmp_path):
    run = write_host(tmp_path / "box-a", host_run(1))
    result = run_cli("report", str(run))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# fl-tui benchmark run run-1") and (run / "report.md").is_file()


@pytest.mark.parametrize(("make", "said"), [
    (lambda root: (root / "fleet.json").write_text('{"schema": "fl-tui/fleet/1", "hosts": [{"host": "../x", '
                                                   '"outcome": "ok"}]}'), "fleet.json:1:"),
    (lambda root: (root / "fleet.json").write_text('{"schema": "fl-tui/fleet/1", "hosts": [{"host": "a", '
                                                   '"outcome": "lost"}]}'), "hosts.0.outcome"),
    (lambda root: (root / "fleet.json").write_text('{"schema": "other", "hosts": []}'), "not an fl-tui fleet"),
    (lambda root: (root / "fleet.json").write_text('{"schema": "fl-tui/fleet/1", "hosts": []}'), "no run folders"),
])
def test_a_broken_fleet_folder_is_one_line_and_exit_2(tmp_path, make, said):
    root = tmp_path / "fleet"
    root.mkdir()
    make(root)
    result = run_cli("report", str(root))
    assert result.returncode == 2
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_two_runs_in_folders_of_one_name_are_refused(tmp_path):
    a = write_host(tmp_path / "one" / "box", host_run(1))
    b = write_host(tmp_path / "two" / "box", host_run(2))
    result = run_cli("report", str(a), str(b))
    assert result.returncode == 2 and "two runs are in folders named 'box'" in result.stderr
    refused = run_cli("report", str(a), str(b), "--prompts", "quick")
    assert refused.returncode == 2 and "for one run, not a fleet" in refused.stderr


async def test_the_app_opens_a_fleet_folder_as_it_opens_a_run(embedded, tmp_path, monkeypatch):
    """`o` lists the fleet folders beside the runs, each with its hosts; opening one shows the fleet report."""
    from test_app_bench import make_app, on_the_benchmark_tab
    from textual.widgets import OptionList
    from waiting import until

    from fl_tui.core import locations
    from fl_tui.ui.screens.runs import RunPickerScreen, TextScreen

    monkeypatch.setattr(locations, "runs_dir", lambda: tmp_path)
    write_host(tmp_path / "solo", host_run(9))
    fleet_folder(tmp_path, {"box-a": host_run(1), "box-b": host_run(2, cpu_model="EPYC")},
                 [{"host": "box-a", "outcome": "ok"}, {"host": "box-b", "outcome": "ok"},
                  {"host": "box-c", "outcome": "unreachable", "error": "refused"}])
    app = make_app(embedded)
    async with app.run_test(size=(100, 30)) as pilot:
        await on_the_benchmark_tab(pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, RunPickerScreen), "the run picker")
        options = app.screen.query_one(OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert len(lines) == 2 and "run-9" in lines[0]
        head, hosts = lines[1].split("\n")
        assert head.split()[2:] == ["fleet", "fleet"] and hosts.strip() == "box-a, box-b, box-c"
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, TextScreen), "the fleet report")
        text = app.screen.text
        assert "environments differ between hosts: cpu_model" in text
        assert "# fl-tui fleet report fleet" in text and "| box-c | unreachable | refused |" in text


def test_compare_takes_a_fleets_hosts_or_two_fleets_pooled(tmp_path):
    """One fleet: its first host against each other one; two fleets: all the hosts' requests of each, so a
    regression over the whole fleet shows (the slower copy takes twice as long on every host)."""
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    runs = {"box-a": host_run(1), "box-b": host_run(2, cpu_model="EPYC")}
    before = fleet_folder(tmp_path / "before", runs)
    slower = {}
    for host, run in runs.items():
        requests = [{**r, "ttft_ms": r["ttft_ms"] * 2 if r["ttft_ms"] else r["ttft_ms"]} for r in run["requests"]]
        slower[host] = {**run, "requests": requests}
    after = fleet_folder(tmp_path / "after", slower)

    hosts = run_cli("compare", str(before), "--json")
    assert hosts.returncode in (0, 1), hosts.stderr
    shown = json.loads(hosts.stdout)["comparisons"]
    assert [(c["base"], c["new"]) for c in shown] == [("box-a", "box-b")]
    assert shown[0]["environment"] == "environments differ: cpu_model"

    pooled = run_cli("compare", str(before), str(after), "--json")
    assert pooled.returncode == 1  # a regression
    result = json.loads(pooled.stdout)
    assert (result["base"], result["new"]) == ("fleet fleet", "fleet fleet")
    ttft = {d["stat"]: d for d in result["deltas"] if d["metric"] == "ttft_ms" and d["model"] == "alpha-cpu"}
    sample = raw_values(before, ["box-a", "box-b"], "alpha-cpu", "ttft_ms")
    assert ttft["p95"]["base"] == pytest.approx(np.percentile(sample, 95, method="linear"))
    assert ttft["p95"]["new"] == pytest.approx(2 * ttft["p95"]["base"]) and ttft["p95"]["regression"]
    assert "environments differ between hosts: cpu_model" in pooled.stderr

    (tmp_path / "one").mkdir()
    alone = run_cli("compare", str(fleet_folder(tmp_path / "one", {"box-a": host_run(1)})))
    assert alone.returncode == 2 and "has 1 host run; comparing its hosts needs two" in alone.stderr
