"""Stand-in commands on PATH for the tests (a fake `foundry` CLI, a fake `nvidia-smi`): a Python script that
runs as a command on every platform, a `#!` script on POSIX and a `.bat` beside it on Windows, which has no `#!`
(shutil.which finds the `.bat` through PATHEXT, as it finds `foundry.exe`)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path


def install(folder: Path, name: str, source: str) -> Path:
    """`name` in `folder`, running `source` with this Python; returns the path a PATH lookup finds."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        script = folder / f"{name}.py"
        script.write_text(source, encoding="utf-8")
        command = folder / f"{name}.bat"
        command.write_text(f'@"{sys.executable}" "{script}" %*\r\n@exit /b %errorlevel%\r\n', encoding="utf-8")
        return command
    command = folder / name
    command.write_text(f"#!{sys.executable}\n{source}", encoding="utf-8")
    command.chmod(command.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return command
