"""The Benchmark tab's set-up: which models, which prompt set, and the run's numbers and load levels, read into
BenchSettings (fl_tui.bench.setup_state, with the parsers of `fl-tui bench`); a field that does not read is named
in one line under the fields and marked.

The last set-up a run started with is remembered (fl_tui.bench.setup_state), read and written in thread workers.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, SelectionList, Static

from fl_tui.bench.engine import BenchSettings
from fl_tui.bench.setup_state import (
    FORM_FIELDS,
    FORM_LABELS,
    BenchSetup,
    FieldError,
    load_setup,
    read_endpoints,
    read_field,
    read_settings,
    save_setup,
)
from fl_tui.connection.base import ModelEntry
from fl_tui.core.config import Settings
from fl_tui.core.errors import UserError
from fl_tui.core.resources import prompt_sets
from fl_tui.core.textsafe import plain
from fl_tui.ui.widgets.bench.messages import BenchProblem, SetupRead
from fl_tui.ui.widgets.pick_list import PickList

# shown in an empty optional field: what empty means, or what it may hold
PLACEHOLDERS = {"seed": "none", "concurrency": "1, or 256 with a rate", "rate": "5 or poisson:5",
                "duration_s": "with a rate", "slo": "ttft_ms=500,tpot_ms=50", "prompt_tokens": "128,1024",
                "endpoints": "http://box:5273,…"}


def model_choices(models: list[ModelEntry], specs: dict, usable_only: bool) -> list[str]:
    """models.json's names that the backend knows, then the usable variant ids those names leave a choice among
    (an alias with a CPU and a GPU variant: each, to compare them; an alias with one: the name alone, which runs
    it), and every other usable variant; in a stable order."""
    usable = [m for m in models if m.cached or m.loaded or not usable_only]
    names = [a for a in specs if any(a in (m.alias, m.id) for m in usable)]
    sole = {variants[0] for a in names if len(variants := [m.id for m in usable if a in (m.alias, m.id)]) == 1}
    return list(dict.fromkeys(names + sorted(m.id for m in usable if m.id not in sole)))


class SetupForm(Horizontal):
    def __init__(self, settings: Settings, specs: dict, **kwargs):
        super().__init__(**kwargs)
        self.settings, self.specs = settings, specs
        self.choices: list[str] = []  # the models offered, in the list's order
        self.as_offered: dict[str, str] = {}  # a variant id not offered -> the alias offered for it alone
        self.remembered: tuple[str, ...] | None = None  # the last run's models, picked once they are offered
        self.sets: dict[str, Path] = {}  # the prompt sets by name, read off the UI loop (read_remembered)

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical(id="bench-models-box"):
            yield Label("Models to compare (space picks)")
            yield PickList(id="bench-models")
        with Vertical(id="bench-form"):
            yield Label("Prompt set")
            yield Select[str]([], id="bench-prompts", compact=True, allow_blank=True)  # filled when read
            defaults = {"rounds": s.rounds, "warmup": s.warmup, "temperature": 0.0, "max_tokens": s.max_tokens,
                        "timeout_s": s.timeout_s, "concurrency": 1}
            for field, label in FORM_LABELS.items():
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield Input(str(defaults.get(field, "")), placeholder=PLACEHOLDERS.get(field, ""),
                                id=f"bench-{field}", compact=True, classes="form-input")
            yield Static("", id="bench-form-error")
            yield Static(Text("Ctrl+R starts, Ctrl+X stops; o opens an earlier run"), classes="hint")

    def on_mount(self) -> None:
        self.read_remembered()

    @on(Input.Blurred)
    def show_start(self, event: Input.Blurred) -> None:
        """A field left with its cursor at the end of a long value would show that value cut at the left."""
        event.input.cursor_position = 0

    @work(thread=True, exclusive=True, group="bench-setup-read", exit_on_error=False)
    def read_remembered(self) -> None:
        """The prompt sets' folders and the remembered set-up are files: read here, never on the UI loop."""
        try:
            sets = prompt_sets()
        except OSError as exc:  # an unreadable folder: no set offered, and the form says why
            sets, problem = {}, f"the prompt sets could not be listed: {exc}"
        else:
            problem = None
        setup, unread = load_setup()
        self.post_message(SetupRead(sets, setup, problem or unread))

    @on(SetupRead)
    def restore(self, message: SetupRead) -> None:
        """Offer the prompt sets (`default` first chosen), then put the remembered set-up back (its prompt set
        only if it still exists)."""
        self.sets = message.sets
        select = self.query_one("#bench-prompts", Select)
        select.set_options([(name, str(path)) for name, path in self.sets.items()])
        default = self.sets.get("default") or next(iter(self.sets.values()), None)
        if default is not None:
            select.value = str(default)
        if message.problem is not None:
            self.notify(plain(message.problem, keep_newlines=False), severity="warning", markup=False, timeout=8)
        setup = message.setup
        if setup is None:
            return
        for name, value in setup.fields.items():
            field = self.query_one(f"#bench-{name}", Input)
            field.value = value
            field.cursor_position = 0  # shown from its start: `ttft_ms=…`, not `tft_ms=…` cut at the left
        if setup.prompt_set in self.sets:
            select.value = str(self.sets[setup.prompt_set])
        self.remembered = setup.models
        if self.choices:  # the models were offered first: pick again
            self._pick(set(setup.models))

    def current(self) -> BenchSetup:
        """What the form holds now, to be remembered."""
        path = self.query_one("#bench-prompts", Select).value
        names = {str(p): name for name, p in self.sets.items()}
        return BenchSetup(tuple(self.query_one("#bench-models", SelectionList).selected),
                          names.get(str(path), ""),
                          {name: self.query_one(f"#bench-{name}", Input).value.strip() for name in FORM_FIELDS})

    @work(thread=True, exclusive=True, group="bench-setup-write", exit_on_error=False)
    def remember(self, setup: BenchSetup) -> None:
        try:
            save_setup(setup)
        except OSError as exc:  # a full disk or a read-only home: the run goes on, the person is told
            self.post_message(BenchProblem("the set-up was not remembered", str(exc)))

    @on(BenchProblem)
    def tell_problem(self, message: BenchProblem) -> None:
        message.stop()
        self.notify(plain(message.error, keep_newlines=False), title=message.title, severity="warning",
                    markup=False)

    def offer_models(self, models: list[ModelEntry], usable_only: bool) -> None:
        """Offer what the backend has; what was picked stays picked (at first, the last run's models that are
        offered, else models.json's names)."""
        choices = model_choices(models, self.specs, usable_only)
        if choices == self.choices:
            return
        box = self.query_one("#bench-models", SelectionList)
        # A variant picked by its id and now offered by its alias alone (model_choices) stays picked, as the alias.
        self.as_offered = as_offered = {m.id: m.alias for m in models if m.alias in choices and m.id not in choices}
        if self.choices:
            picked = {as_offered.get(c, c) for c in box.selected}
        else:
            remembered = {as_offered.get(c, c) for c in (self.remembered or ())} & set(choices)
            picked = remembered or {c for c in choices if c in self.specs}
        box.clear_options()
        box.add_options([(plain(c, keep_newlines=False), c, c in picked) for c in choices])
        self.choices = choices

    def _pick(self, models: set[str]) -> None:
        models = {self.as_offered.get(m, m) for m in models}
        box = self.query_one("#bench-models", SelectionList)
        if not models & set(self.choices):
            return  # none of them is offered now: keep the default picks
        box.deselect_all()
        for value in self.choices:
            if value in models:
                box.select(value)

    def choose(self, models: list[str], prompt_set: str) -> None:
        """Pick exactly `models` and the prompt set named `prompt_set`, as keys would (for scripts and tests). A
        model the list does not offer is added, so that a run can try a name the backend does not know."""
        box = self.query_one("#bench-models", SelectionList)
        for value in models:
            if value not in self.choices:
                box.add_option((plain(value, keep_newlines=False), value))
        box.deselect_all()
        for value in models:
            box.select(value)
        self.query_one("#bench-prompts", Select).value = str(self.sets[prompt_set])

    def read(self) -> tuple[list[str], Path, BenchSettings, tuple[str, ...]]:
        """The models, the prompt set's file, the settings and the endpoints to run after the app's own;
        UserError saying which field is wrong."""
        models = list(self.query_one("#bench-models", SelectionList).selected)
        if not models:
            raise UserError("pick at least one model (space in the list)")
        prompts = self.query_one("#bench-prompts", Select).value
        if not isinstance(prompts, str):
            raise UserError("pick a prompt set")
        fields = {name: self.query_one(f"#bench-{name}", Input).value for name in FORM_FIELDS}
        try:
            settings, more = read_settings(fields), read_endpoints(fields)
        except FieldError as exc:
            self.show_error(exc)
            self.query_one(f"#bench-{exc.field}", Input).focus()
            raise
        self.show_error(None)
        return models, Path(prompts), settings, more

    def show_error(self, error: FieldError | None) -> None:
        """Say in one line under the fields which one does not read, and mark it; None clears."""
        for box in self.query(".form-input"):
            box.set_class(error is not None and box.id == f"bench-{error.field}", "-bad")
        line = self.query_one("#bench-form-error", Static)
        line.display = error is not None
        line.update(Text(plain(str(error), keep_newlines=False) if error else ""))

    @on(Input.Blurred, ".form-input")
    def check_field(self, event: Input.Blurred) -> None:
        """A field is checked as the focus leaves it, not at each key (half-typed text is not yet wrong)."""
        self._check(event.input, clear_only=False)

    @on(Input.Changed, ".form-input")
    def recheck_field(self, event: Input.Changed) -> None:
        """While typing, the mark goes as soon as the field reads; a new one waits for the focus to leave."""
        self._check(event.input, clear_only=True)

    def _check(self, box: Input, clear_only: bool) -> None:
        name = (box.id or "").removeprefix("bench-")
        try:
            read_field(name, box.value)
        except FieldError as exc:
            if not clear_only:
                self.show_error(exc)
            return
        if box.has_class("-bad"):
            self.show_error(None)
