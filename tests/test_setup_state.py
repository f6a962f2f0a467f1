"""The Benchmark tab's remembered set-up: written atomically in the state folder, read back tolerantly."""

import json

from fl_tui.bench.setup_state import SETUP_SCHEMA, BenchSetup, load_setup, save_setup, setup_file
from fl_tui.core import locations

SETUP = BenchSetup(("fl-demo-fast", "fl-demo-slow"), "quick", {"rounds": "5", "seed": "", "timeout_s": "30"})


def test_round_trip_in_the_state_folder_not_the_config(fresh_state):
    save_setup(SETUP)
    assert setup_file().parent == fresh_state == locations.state_dir()
    assert not setup_file().is_relative_to(locations.config_dir())
    assert load_setup() == (SETUP, None)
    assert [p.name for p in fresh_state.iterdir()] == ["bench-setup.json"]  # no temporary file left behind


def test_no_file_is_the_first_start():
    assert load_setup() == (None, None)


def test_a_corrupt_file_is_one_line_and_ignored():
    setup_file().parent.mkdir(parents=True, exist_ok=True)
    setup_file().write_text('{"schema": "fl-tui/bench-setup/1", "models": [\n  "a",\n', encoding="utf-8")
    setup, problem = load_setup()
    assert setup is None and "\n" not in problem
    assert problem.startswith("the last Benchmark set-up was not restored: ") and str(setup_file()) in problem


def test_a_foreign_or_ill_typed_file_is_ignored():
    for data in ({"schema": "something/else", "models": [], "prompt_set": "x", "fields": {}}, ["a list"],
                 {"schema": SETUP_SCHEMA, "models": "fl-demo-fast", "prompt_set": "quick", "fields": {}},
                 {"schema": SETUP_SCHEMA, "models": [], "prompt_set": "quick", "fields": {"rounds": 5}}):
        setup_file().parent.mkdir(parents=True, exist_ok=True)
        setup_file().write_text(json.dumps(data), encoding="utf-8")
        setup, problem = load_setup()
        assert setup is None and problem and "\n" not in problem, data


def test_fields_the_form_does_not_have_are_dropped():
    setup_file().parent.mkdir(parents=True, exist_ok=True)
    setup_file().write_text(json.dumps({"schema": SETUP_SCHEMA, "models": ["m"], "prompt_set": "quick",
                                        "fields": {"rounds": "2", "colour": "red"}, "newer": 1}), encoding="utf-8")
    assert load_setup() == (BenchSetup(("m",), "quick", {"rounds": "2"}), None)
