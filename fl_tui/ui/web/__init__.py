"""`fl-tui web`: the app served to browsers with textual-serve, one app process per browser session."""
