"""A server's words for a failure, as a person reads them: the native runtime's source place is left out."""

from __future__ import annotations

import pytest
from conftest import run_cli

from fl_tui.connection.server_words import payload_message

BUDGET = ("request requires 2041 total tokens (41 input + 2000 output), which exceeds the model's maximum context "
          "length of 1024 tokens")


@pytest.mark.parametrize(("said", "read"), [
    (f"search_options.cc:108 int fl::ValidateGeneratorRequestBudget(int64_t, int, int) {BUDGET}", BUDGET),
    (f"src/genai/model.cpp:42 {BUDGET}", BUDGET),  # a place without a signature
    ("Model not loaded: fl-demo-fast", "Model not loaded: fl-demo-fast"),
    ("see config.h:3 for why", "see config.h:3 for why"),  # a place inside the words is theirs
    ("model.cc:12 ", "model.cc:12 "),  # nothing after the place: the words as they are
])
def test_the_runtimes_source_place_is_left_out(said, read):
    assert payload_message({"error": {"message": said}}) == read
    assert payload_message({"error": said}) == read


@pytest.mark.native  # the embedded runtime refuses the request itself
def test_a_request_over_the_models_context_fails_in_the_runtimes_own_words(tmp_path):
    """1,023 answer tokens leave room for a one-token prompt, so fl-tui's own check (tests/bench/test_context_fit.py)
    lets the run go; the prompt is longer, and the runtime refuses the request."""
    result = run_cli("bench", "--models", "fl-demo-fast", "--rounds", "1", "--warmup", "0", "--max-tokens", "1023",
                     "--out", str(tmp_path / "run"))
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if line.startswith("fl-demo-fast: failed: ")]
    assert failed and "exceeds the model's maximum context" in failed[0] and ".cc:" not in failed[0], result.stderr
