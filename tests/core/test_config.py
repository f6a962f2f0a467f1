"""Settings: validated, saved atomically, and a bad file reported with its place, never fatal."""

import os
import sys
from pathlib import Path

import pytest

from fl_tui.core.config import Settings, load_settings, save_settings
from fl_tui.core.errors import FileProblem


def test_missing_file_gives_defaults(tmp_path):
    settings, problem = load_settings(tmp_path / "none.toml", env={})
    assert settings == Settings() and problem is None


def test_round_trip_writes_only_what_was_set(tmp_path):
    path = tmp_path / "config.toml"
    save_settings({"theme": "fl-ansi", "rounds": 5, "keys": {"models.load": "L"}}, path)
    text = path.read_text()
    assert 'theme = "fl-ansi"' in text and "max_tokens" not in text
    loaded, problem = load_settings(path, env={})
    assert problem is None and (loaded.theme, loaded.rounds, loaded.keys) == ("fl-ansi", 5, {"models.load": "L"})
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_toml_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "x"\nrounds = = 3\n')
    settings, problem = load_settings(path, env={})
    assert settings == Settings()
    assert (problem.line, problem.col) == (2, 10) and str(problem).startswith(f"{path}:2:10: invalid TOML")


def test_unknown_key_is_named_with_its_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "x"\n\nmax_tokenz = 3\n')
    _, problem = load_settings(path, env={})
    assert str(problem) == f"{path}:3:1: max_tokenz: Extra inputs are not permitted"


def test_the_environment_overrides_the_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('catalog = "online"\nendpoint = "http://file:1"\nrounds = 7\n')
    settings, problem = load_settings(path, env={"FL_TUI_CATALOG": "offline", "FL_TUI_ENDPOINT": "embedded"})
    assert problem is None and (settings.catalog, settings.endpoint, settings.rounds) == ("offline", "embedded", 7)
    settings, problem = load_settings(path, env={})
    assert (settings.catalog, settings.endpoint) == ("online", "http://file:1")


def test_a_bad_environment_value_is_named_and_ignored(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("rounds = 7\n")
    settings, problem = load_settings(path, env={"FL_TUI_CATALOG": "sometimes"})
    assert settings.catalog == "auto" and settings.rounds == 7
    assert str(problem).startswith("environment FL_TUI_CATALOG: Input should be 'auto', 'online' or 'offline'")


def test_a_bom_is_accepted_like_in_json_files(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbfrounds = 5\n")
    settings, problem = load_settings(path, env={})
    assert problem is None and settings.rounds == 5


def test_types_are_strict_like_in_json_files(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('warmup = 0\nrounds = "3"\n')
    _, problem = load_settings(path, env={})
    assert str(problem) == f"{path}:2:1: rounds: Input should be a valid integer"
    path.write_text('timeout_s = 30\nmodel_cache_dir = "/tmp/models"\n')  # an int for a float, a string for a path
    settings, problem = load_settings(path, env={})
    assert problem is None and settings.timeout_s == 30.0 and settings.model_cache_dir == Path("/tmp/models")


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="symlinks need rights on Windows")
def test_a_symlinked_config_is_edited_through_its_link(tmp_path):
    """A config.toml that links into a dotfiles folder: the target gets the change, the link stays a link."""
    dotfiles = tmp_path / "dotfiles" / "fl-tui.toml"
    dotfiles.parent.mkdir()
    dotfiles.write_text('# mine\ntheme = "fl-dark"\n', encoding="utf-8")
    link = tmp_path / "config" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(dotfiles)
    save_settings({"theme": "fl-ansi"}, link)
    assert link.is_symlink() and link.resolve() == dotfiles.resolve()
    assert dotfiles.read_text(encoding="utf-8") == '# mine\ntheme = "fl-ansi"\n'


@pytest.mark.parametrize("value", ["inf", "nan", "-1.0", "0"])
def test_a_timeout_must_be_a_finite_positive_number(tmp_path, value):
    """`timeout_s = inf` would be no bound at all: the key is reported at its line and left out."""
    path = tmp_path / "config.toml"
    path.write_text(f"rounds = 5\ntimeout_s = {value}\n")
    settings, problem = load_settings(path, env={})
    assert str(problem).startswith(f"{path}:2:1: timeout_s: ")
    assert settings.timeout_s == Settings().timeout_s and settings.rounds == 5


@pytest.mark.parametrize(
    "text, message",
    [
        ("rounds = " + "1" * 5000 + "\n", "invalid TOML: Exceeds the limit (4300 digits)"),
        ("keys = " + "[" * 1000 + "]" * 1000 + "\n", "invalid TOML: nested too deeply"),
    ],
)
def test_huge_integers_and_deep_arrays_are_problems_not_crashes(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text)
    settings, problem = load_settings(path, env={})
    assert settings == Settings() and message in problem.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on Windows")
def test_a_fifo_or_a_device_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert load_settings(fifo, env={})[1].message == "cannot read: not a regular file (a FIFO)"
    assert load_settings(Path("/dev/zero"), env={})[1].message == "cannot read: not a regular file (a character device)"


def test_a_key_with_an_escape_is_quoted_in_the_problem(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('"evil\\u001b]52;c;eA==\\u0007" = 1\n')
    _, problem = load_settings(path, env={})
    assert "\x1b" not in str(problem) and "Extra inputs are not permitted" in str(problem)


def test_saving_a_setting_keeps_comments_order_and_unknown_keys(tmp_path):
    """The issue's case: one misspelt key, then the app saves the theme. Nothing the person wrote is lost."""
    path = tmp_path / "config.toml"
    original = ('# my box\nendpoint = "http://127.0.0.1:5273"  # the tunnel\n\nrounds = 7\nmax_token = 256\n\n'
                '[keys]\n"models.load" = "L"\n')
    path.write_text(original)
    settings, problem = load_settings(path, env={})
    assert str(problem) == f"{path}:5:1: max_token: Extra inputs are not permitted"
    assert (settings.endpoint, settings.rounds, settings.keys) == ("http://127.0.0.1:5273", 7, {"models.load": "L"})
    save_settings({"theme": "fl-light"}, path)
    save_settings({"rater": "ann"}, path)
    text = path.read_text()
    assert text.startswith(original.split("\n\n[keys]")[0])  # comments, order, the unknown key: as they were
    assert '"models.load" = "L"' in text and 'theme = "fl-light"' in text and 'rater = "ann"' in text
    assert load_settings(path, env={})[0].theme == "fl-light"
    save_settings({"rater": None}, path)
    assert "rater" not in path.read_text()


def test_a_file_that_does_not_parse_is_never_written_over(tmp_path):
    path = tmp_path / "config.toml"
    broken = 'endpoint = "http://box:5273"\nrounds = = 3\n'
    path.write_text(broken)
    with pytest.raises(FileProblem, match="settings not saved, the file is kept as it is: invalid TOML") as err:
        save_settings({"theme": "fl-ansi"}, path)
    assert (err.value.line, err.value.col) == (2, 10)
    assert path.read_text() == broken and list(tmp_path.iterdir()) == [path]


RAW_SETTINGS = [
    {},
    {"theme": "fl-ansi", "rounds": 5, "keys": {"models.load": "L"}, "catalog": "offline"},
    {"endpoint": "http://127.0.0.1:5273", "model_cache_dir": "/tmp/models", "timeout_s": 30.0, "demo_models": False},
    {"rounds": 1000, "warmup": 0, "max_tokens": 32768, "rater": "ann", "auto_advance": True, "catalog_url": "x"},
    {"timeout_s": 30},  # what the schema alone decides from here on
    {"rounds": 0},
    {"rounds": True},
    {"rounds": "3"},
    {"timeout_s": float("inf")},
    {"catalog": "sometimes"},
    {"keys": {"a": 1}},
    {"max_tokenz": 5},
]


@pytest.mark.parametrize("raw", RAW_SETTINGS, ids=[repr(r) for r in RAW_SETTINGS])
def test_a_file_read_without_pydantic_reads_as_the_schema_reads_it(tmp_path, raw):
    """A plainly valid file is read without pydantic (the app's first screen waits for it); the schema must agree
    with every such reading, and decides (and words) everything else."""
    import tomlkit

    from fl_tui.core.config_schema import validate

    path = tmp_path / "config.toml"
    path.write_text(tomlkit.dumps(raw), encoding="utf-8")
    settings, problem = load_settings(path, env={})
    values, errors = validate(raw)
    if values is not None:
        assert problem is None and settings == Settings(**values)
    else:
        assert problem is not None and problem.message.endswith(errors[0]["msg"])
