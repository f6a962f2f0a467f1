"""The Benchmark tab's remembered set-up: written atomically in the state folder, read back tolerantly."""

import json

import pytest

from fl_tui.bench.setup_state import (
    FORM_LABELS,
    SETUP_SCHEMA,
    BenchSetup,
    FieldError,
    load_setup,
    read_settings,
    save_setup,
    setup_file,
)
from fl_tui.cli.bench_cmd import bench_settings
from fl_tui.cli.parser import build_parser
from fl_tui.core import locations
from fl_tui.core.config import Settings
from fl_tui.core.errors import UserError

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


FORM = {"rounds": "2", "warmup": "0", "temperature": "0.7", "seed": "7", "max_tokens": "16", "timeout_s": "30",
        "concurrency": "1,2,4", "rate": "poisson:5", "duration_s": "3", "slo": "ttft_ms=500,tpot_ms=50"}
AS_OPTIONS = ["--rounds", "2", "--warmup", "0", "--temperature", "0.7", "--seed", "7", "--max-tokens", "16",
              "--timeout", "30", "--concurrency", "1,2,4", "--rate", "poisson:5", "--duration", "3",
              "--slo", "ttft_ms=500,tpot_ms=50"]


def cli_settings(options: list[str]):
    args = build_parser().parse_args(["bench", "--models", "m", "--prompts", "p.json", *options])
    return bench_settings(args, Settings())


def test_the_form_reads_as_fl_tui_bench_reads_the_same_options():
    assert read_settings(FORM) == cli_settings(AS_OPTIONS)
    assert read_settings({**FORM, "prompt_tokens": " 128,1024 "}) == cli_settings([*AS_OPTIONS, "--prompt-tokens",
                                                                                  "128,1024"])
    no_cap = {**FORM, "concurrency": ""}  # as the command without --concurrency: 1, or 256 with a rate
    assert read_settings(no_cap) == cli_settings([o for o in AS_OPTIONS if o not in ("--concurrency", "1,2,4")])
    assert read_settings({**no_cap, "rate": "", "duration_s": ""}).concurrency == 1
    one_level = {**FORM, "concurrency": "4", "rate": "", "duration_s": "", "slo": "", "seed": ""}
    assert read_settings(one_level) == cli_settings(["--rounds", "2", "--warmup", "0", "--temperature", "0.7",
                                                     "--max-tokens", "16", "--timeout", "30", "--concurrency", "4"])


@pytest.mark.parametrize(("field", "text", "option"), [
    ("concurrency", "1,x", "--concurrency"), ("concurrency", "2,2", "--concurrency"), ("rate", "fast", "--rate"),
    ("rate", "poisson:0", "--rate"), ("slo", "ttft_ms=500,p99=1", "--slo"), ("slo", "e2e_ms=-3", "--slo"),
    ("prompt_tokens", "128,0", "--prompt-tokens"), ("prompt_tokens", "1k", "--prompt-tokens"),
])
def test_a_bad_load_field_is_the_commands_one_line_named_after_the_field(field, text, option):
    with pytest.raises(UserError) as cli:
        cli_settings([*AS_OPTIONS, option, text])
    with pytest.raises(FieldError) as form:
        read_settings({**FORM, field: text})
    assert form.value.field == field and "\n" not in str(form.value)
    assert str(form.value) == f"{FORM_LABELS[field]}: {str(cli.value).removeprefix(option + ': ')}"


@pytest.mark.parametrize(("field", "text", "says"), [
    ("rounds", "0", "Rounds: must be at least 1, got '0'"), ("seed", "x", "Seed: expected an integer, got 'x'"),
    ("timeout_s", "0", "Timeout (s): must be more than 0, got '0'"),
])
def test_a_bad_number_names_its_field(field, text, says):
    with pytest.raises(FieldError) as form:
        read_settings({**FORM, field: text})
    assert (form.value.field, str(form.value)) == (field, says)


def test_a_duration_needs_a_rate_as_on_the_command_line():
    with pytest.raises(FieldError) as form:
        read_settings({**FORM, "rate": ""})
    assert form.value.field == "duration_s" and "needs a rate" in str(form.value)


def test_a_file_from_before_the_load_fields_is_read_and_runs_one_level(fresh_state):
    old = {"rounds": "2", "warmup": "1", "temperature": "0.0", "seed": "", "max_tokens": "8", "concurrency": "1",
           "timeout_s": "120.0"}
    setup_file().parent.mkdir(parents=True, exist_ok=True)
    setup_file().write_text(json.dumps({"schema": SETUP_SCHEMA, "models": ["m"], "prompt_set": "quick",
                                        "fields": old}), encoding="utf-8")
    setup, problem = load_setup()
    assert problem is None and setup.fields == old
    settings = read_settings(setup.fields)
    assert (settings.levels, settings.rate, settings.duration_s, settings.slo, settings.prompt_tokens) == \
        ((), None, None, None, ())
    assert (settings.concurrency, settings.rounds) == (1, 2)
