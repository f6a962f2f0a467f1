"""The Models tab: the pane (state, keys, actions), its table and its details."""
