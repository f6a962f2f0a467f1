"""fl-tui: a terminal workbench for running, measuring and judging local language models on Foundry Local."""

__version__ = "0.1.0"
