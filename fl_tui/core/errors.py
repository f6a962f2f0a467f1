"""Errors a person caused or can fix. The CLI prints them as one line and exits 2; `--debug` shows the traceback."""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    exit_code = 2


class FileProblem(UserError):
    """Bad content in a file: printed as `path:line:col: what was expected`, the form editors jump to."""

    def __init__(self, path: Path | str, message: str, line: int | None = None, col: int | None = None):
        self.path, self.line, self.col, self.message = str(path), line, col, message
        where = self.path + (f":{line}" if line else "") + (f":{col}" if line and col else "")
        super().__init__(f"{where}: {message}")


TUNNEL_HINT = "if the service runs on another box, tunnel it first: ssh -L 5273:127.0.0.1:5273 box"
NOTHING_LISTENING_HINT = f"start Foundry Local there (`foundry server start`, or `fl-tui serve`); {TUNNEL_HINT}"
SILENT_HINT = ("a tunnel that is up with nothing behind it looks like this: start Foundry Local on the far side "
               "and check the port it listens on (`foundry server status`)")
