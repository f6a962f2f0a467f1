"""The house rules a test can walk: nothing outside the UI package imports Textual, no import cycles, and the UI
moves blocking work off its loop one way only.

Both read every module's source (imports inside functions included, since a lazy import is still a dependency),
so a new module is covered without being listed here.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fl_tui"
UI = "fl_tui.ui"
UI_LIBRARIES = ("textual", "textual_plotext", "textual_serve")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module `name` imports, anywhere in its source; `from a import b` counts a.b when that is a module."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES}
    return found


def is_ui(name: str) -> bool:
    return name == UI or name.startswith(UI + ".")


def test_nothing_outside_the_ui_package_imports_textual():
    offenders = {name: sorted(i for i in imports_of(name) if i.split(".")[0] in UI_LIBRARIES)
                 for name in MODULES if not is_ui(name)}
    assert {n: i for n, i in offenders.items() if i} == {}


def test_the_headless_modules_load_without_textual():
    headless = [name for name in MODULES if not is_ui(name) and name != "fl_tui.__main__"]
    code = "".join(f"import {m}\n" for m in headless)
    code += "import sys; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def holds_nothing(name: str) -> bool:
    """A package __init__ with no imports of its own: importing a module under it is no edge to it."""
    return MODULES[name].name == "__init__.py" and not imports_of(name)


def package_graph() -> dict[str, set[str]]:
    """Module -> the fl_tui modules it imports."""
    return {name: {i for i in imports_of(name) if i in MODULES and i != name and not holds_nothing(i)}
            for name in MODULES}


def test_every_fl_tui_import_names_a_module_or_a_name_in_one():
    """After a move, a lazy import of a module that is gone fails only when it runs: caught here."""
    missing = {}
    for name in MODULES:
        for imported in imports_of(name):
            if imported.split(".")[0] == "fl_tui" and imported not in MODULES:
                parent = imported.rpartition(".")[0]
                if parent not in MODULES:  # `from fl_tui.x import name`: x must exist
                    missing.setdefault(name, []).append(imported)
    assert missing == {}


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert cycles(package_graph()) == []


def test_only_the_ui_and_the_cli_import_the_ui_package():
    """View models live below the UI (fl_tui.models, fl_tui.bench, fl_tui.runs): the core never reaches up."""
    def allowed(name: str) -> bool:
        return is_ui(name) or name.startswith("fl_tui.cli") or name == "fl_tui.__main__"

    offenders = {name: sorted(i for i in imports_of(name) if is_ui(i)) for name in MODULES if not allowed(name)}
    assert {n: i for n, i in offenders.items() if i} == {}


OTHER_OFF_LOOP_IDIOMS = {"to_thread", "run_in_executor"}


def other_off_loop_idioms(source: str) -> list[str]:
    """Each use of asyncio.to_thread or loop.run_in_executor in `source`, as `name:line`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in OTHER_OFF_LOOP_IDIOMS:
            found.append(f"{node.attr}:{node.lineno}")
        elif isinstance(node, ast.ImportFrom) and node.module == "asyncio":
            found += [f"{alias.name}:{node.lineno}" for alias in node.names if alias.name in OTHER_OFF_LOOP_IDIOMS]
    return found


def test_the_idiom_finder_finds_the_other_idioms():
    assert other_off_loop_idioms("import asyncio\nasync def f():\n    await asyncio.to_thread(g)\n") == ["to_thread:3"]
    assert other_off_loop_idioms("async def f(loop):\n    await loop.run_in_executor(None, g)\n") == [
        "run_in_executor:2"]
    assert other_off_loop_idioms("from asyncio import to_thread\n") == ["to_thread:1"]
    assert other_off_loop_idioms("@work(thread=True)\ndef f(self):\n    self.post_message(Done())\n") == []


def test_the_ui_moves_blocking_work_off_its_loop_one_way():
    """A thread worker (`@work(thread=True)` or `run_worker(..., thread=True)`) that posts a typed message: one
    idiom, so errors reach the app's one worker-error handler and every result arrives as a message."""
    offenders = {name: found for name, path in MODULES.items()
                 if is_ui(name) and (found := other_off_loop_idioms(path.read_text(encoding="utf-8")))}
    assert offenders == {}
