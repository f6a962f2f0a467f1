"""The short GIL switch interval holds for a concurrent level only, and never lengthens the interval."""

from __future__ import annotations

import sys

import pytest

from fl_tui.bench.gil import SWITCH_INTERVAL_S, prompt_switches


def test_shortened_inside_and_restored_after():
    before = sys.getswitchinterval()
    with prompt_switches():
        assert sys.getswitchinterval() == pytest.approx(min(before, SWITCH_INTERVAL_S))
    assert sys.getswitchinterval() == before


def test_a_shorter_interval_already_set_is_kept():
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.0001)
        short = sys.getswitchinterval()
        with prompt_switches():
            assert sys.getswitchinterval() == short
        assert sys.getswitchinterval() == short
    finally:
        sys.setswitchinterval(before)
