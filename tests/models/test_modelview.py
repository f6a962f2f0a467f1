"""The Models table's headless logic: which columns fit a width, the ellipsis, the sort mark, why a key cannot act."""

from hypothesis import given
from hypothesis import strategies as st

from fl_tui.connection.base import Capability, ModelEntry
from fl_tui.core.fit import CELL_PADDING, MIN_SHRUNK, cut
from fl_tui.models import modelview
from fl_tui.models.modelview import COLUMNS, ESSENTIAL, Situation, fit_columns, refusal

KEYS = [c.key for c in COLUMNS]
LONG = ModelEntry(id="qwen2.5-coder-1.5b-instruct-generic-cpu:4", alias="qwen2.5-coder-1.5b", device="CPU",
                  execution_provider="CPUExecutionProvider", task="chat-completion", size_mb=1250, license="apache-2.0",
                  cached=True)
SHORT = ModelEntry(id="phi-4-mini:1", alias="phi-4-mini", device="GPU", size_mb=3600, loaded=True)
SPECS = {"qwen2.5-coder-1.5b": type("Spec", (), {"capabilities": ["chat", "code", "tools"]})()}


def cells(*entries):
    return [c for _, c in modelview.rows(list(entries), SPECS)]


def used(columns):
    return sum(c.width + CELL_PADDING for c in columns)


def test_a_wide_table_shows_every_column_whole_in_priority_order():
    columns = fit_columns(400, cells(LONG, SHORT))
    assert [c.key for c in columns] == KEYS
    by_key = {c.key: c.width for c in columns}
    assert by_key["id"] == len(LONG.id) and by_key["caps"] == len("chat,code,tools")


def test_at_80_columns_the_essential_columns_come_first_and_the_rest_only_if_room_is_left():
    columns = fit_columns(78, cells(LONG, SHORT))  # 80 minus the vertical scrollbar
    # while the variant id is cut, no column of lower priority takes room from it
    assert [c.key for c in columns] == ["alias", "id", "device", "cached", "loaded", "size"]
    by_key = {c.key: c.width for c in columns}
    assert by_key["alias"] == len(LONG.alias)
    assert by_key["id"] == 78 - used([c for c in columns if c.key != "id"]) - CELL_PADDING < len(LONG.id)
    short = fit_columns(78, cells(SHORT))  # short names leave room for more
    assert [c.key for c in short][:ESSENTIAL + 1] == [*KEYS[:ESSENTIAL], "caps"] and used(short) <= 78


def test_narrow_tables_cut_the_shrinkable_columns_but_not_below_their_least():
    columns = fit_columns(60, cells(LONG, SHORT))
    assert [c.key for c in columns] == KEYS[:ESSENTIAL]
    by_key = {c.key: c.width for c in columns}
    assert MIN_SHRUNK <= by_key["alias"] <= len(LONG.alias) and MIN_SHRUNK <= by_key["id"] < len(LONG.id)
    assert by_key["size"] == len("1,250 MB")  # a number is never cut


def test_a_column_that_does_not_fit_is_skipped_and_a_later_narrower_one_still_can():
    wide_caps = ModelEntry(id="m:1", alias="m", cached=True)
    specs = {"m": type("Spec", (), {"capabilities": ["chat-completion", "embeddings", "vision"]})()}
    rows = [c for _, c in modelview.rows([wide_caps], specs)]
    essential = used(fit_columns(1000, rows)[:ESSENTIAL])
    keys = [c.key for c in fit_columns(essential + len("Capabilities") + CELL_PADDING - 1, rows)]
    assert "caps" not in keys and "task" in keys  # "Task" (4 wide, text "-") fits where "Capabilities" does not


def test_the_sort_mark_is_in_the_header_and_widens_its_column():
    columns = {c.key: c for c in fit_columns(400, cells(SHORT), sort_key="size", reverse=True)}
    assert columns["size"].header == "Size ▼" and columns["alias"].header == "Alias"
    assert columns["size"].width == len("3,600 MB")
    columns = {c.key: c for c in fit_columns(400, cells(SHORT), sort_key="device")}
    assert columns["device"].header == "Dev ▲" and columns["device"].width == len("Dev ▲")


@given(width=st.integers(min_value=1, max_value=250),
       texts=st.lists(st.lists(st.text(max_size=40), min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=5))
def test_the_columns_always_fit_keep_their_order_and_start_with_the_alias(width, texts):
    columns = fit_columns(width, texts)
    assert columns[0].key == "alias"
    assert used(columns) <= max(width, 1 + CELL_PADDING)
    keys = [c.key for c in columns]
    assert keys == [k for k in KEYS if k in keys]
    assert all(c.width >= 1 for c in columns)


def test_cut_ends_with_an_ellipsis_only_when_something_was_cut_and_counts_terminal_cells():
    assert cut("fl-demo-fast", 12) == "fl-demo-fast"
    assert cut("fl-demo-fast", 8) == "fl-demo…"
    assert cut("模型模型", 5) == "模型…"  # each of these takes two cells
    assert cut("abc", 0) == ""


NOT_LOADED = ModelEntry(id="a:1", alias="a", cached=True)
LOADED = ModelEntry(id="b:1", alias="b", cached=True, loaded=True)
ALL = {c: None for c in Capability}


def test_refusals_say_why_a_key_cannot_act():
    offline = {**ALL, Capability.DOWNLOAD: "catalog unreachable"}
    assert refusal("download", Situation(offline, NOT_LOADED)) == "cannot download: catalog unreachable"
    assert refusal("download", Situation(ALL, NOT_LOADED)) == "a:1 is already in the cache"
    assert refusal("download", Situation(ALL, ModelEntry(id="c:1", alias="c"), downloading=frozenset({"c:1"}))) \
        == "c:1 is already queued"
    assert refusal("download", Situation(ALL, ModelEntry(id="c:1", alias="c"))) is None
    assert refusal("cancel_download", Situation(offline)) == "no download to cancel"
    assert refusal("cancel_download", Situation(ALL, downloading=frozenset({"c:1"}))) is None
    assert refusal("unload", Situation(ALL, NOT_LOADED)) == "a:1 is not loaded"
    assert refusal("unload", Situation(ALL, LOADED)) is None
    assert refusal("load", Situation(ALL, LOADED)) == "b:1 is already loaded"
    assert refusal("load", Situation(ALL, None)) == "no model selected"
    assert refusal("unload_all", Situation(ALL, loaded=0)) == "no model is loaded"
    assert refusal("unload_all", Situation(ALL, loaded=1)) is None
    assert refusal("load", Situation(None, NOT_LOADED)) == "not connected to Foundry Local yet"
    assert refusal("sort", Situation(None)) is None
    assert refusal("remove", Situation(ALL, ModelEntry(id="c:1", alias="c"))) \
        == "c:1 is not in the cache: nothing to remove"
    assert refusal("remove", Situation(ALL, NOT_LOADED)) is None


def test_a_backend_that_does_not_know_what_is_loaded_is_not_told_a_model_is_not_loaded():
    unknown = {**ALL, Capability.LOADED: "this server does not say"}
    assert refusal("unload", Situation(unknown, NOT_LOADED)) is None
    assert refusal("unload_all", Situation(unknown)) is None
