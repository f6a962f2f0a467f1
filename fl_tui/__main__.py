from fl_tui.cli.main import entry

entry()
