"""Untrusted text reaches a terminal or a spreadsheet inert."""

import pytest

from fl_tui.core.textsafe import csv_cell, plain


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b[31mred\x1b[0m", "red"),
        ("title\x1b]0;pwned\x07!", "title!"),
        ("bell\x07 and nul\x00", "bell\ufffd and nul\ufffd"),
        ("c1 csi \x9b31m", "c1 csi \ufffd31m"),
        ("[bold]markup[/] stays literal", "[bold]markup[/] stays literal"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
    ],
)
def test_plain_removes_escapes_and_controls(raw, shown):
    assert plain(raw) == shown


def test_plain_can_fold_lines():
    assert plain("a\nb\tc", keep_newlines=False) == "a b c"


@pytest.mark.parametrize("cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)"])
def test_csv_formulas_are_neutralised(cell):
    assert csv_cell(cell) == "'" + cell


def test_csv_keeps_numbers_and_plain_text():
    assert csv_cell(-3.5) == -3.5
    assert csv_cell("phi-4-mini") == "phi-4-mini"


def test_csv_cells_for_the_values_a_run_holds():
    assert [csv_cell(v) for v in (None, float("nan"), float("inf"), True, False, 3, 2.5)] == \
        ["", "", "", "true", "false", 3, 2.5]
    assert csv_cell({"a": 1}) == '{"a": 1}' and csv_cell(["=x"]) == '["=x"]'
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"


@pytest.mark.parametrize("mark", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069", "\u200e", "\u200f", "\u061c"])
def test_bidi_embeddings_overrides_and_isolates_are_neutralised(mark):
    assert plain(f"invoice{mark}fdp.exe") == "invoice\ufffdfdp.exe"


def test_surrogates_are_joined_when_paired_and_replaced_when_lone():
    assert plain("split \ud83d" + "\ude00 pair") == "split \U0001f600 pair"
    assert plain("lone \udc00 and \ud800") == "lone \ufffd and \ufffd"
    plain("x\ud800").encode("utf-8")  # printable: no UnicodeEncodeError at the terminal


def test_secret_query_parameters_are_masked():
    assert plain("GET http://gw:1/v1/models?api_key=sk-123&x=1 failed") == (
        "GET http://gw:1/v1/models?api_key=***&x=1 failed")
    assert plain("http://h/?x=1&token=abc#frag and ?Key=Z") == "http://h/?x=1&token=***#frag and ?Key=***"
    assert plain("http://h/?keyboard=qwerty") == "http://h/?keyboard=qwerty"  # a name that only starts alike


def test_credentials_in_urls_are_masked():
    assert plain("cannot reach http://alice:hunter2@10.0.0.5:5273: refused") == (
        "cannot reach http://alice:***@10.0.0.5:5273: refused")
    assert plain("https://token@host/v1 and http://plain:1/") == "https://***@host/v1 and http://plain:1/"
