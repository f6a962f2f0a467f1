"""The Annotate tab: the pane (keys, opening runs, the worker thread) and its scoring panel."""
