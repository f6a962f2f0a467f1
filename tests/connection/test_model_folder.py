"""One rule for a registrable model folder, said the same way by the register dialog and the backend."""

from fl_tui.connection.model_folder import folder_problem
from fl_tui.ui.screens.path_prompt import folder_problem as typed_problem


def test_a_folder_with_a_genai_config_is_registrable(tmp_path):
    (tmp_path / "genai_config.json").write_text("{}")
    assert folder_problem(tmp_path) is None and typed_problem(f"  {tmp_path} ") is None


def test_the_dialog_and_the_backend_give_the_same_reasons(tmp_path):
    missing = tmp_path / "nope"
    assert folder_problem(missing) == typed_problem(str(missing)) == f"{missing}: no such folder"
    assert folder_problem(tmp_path) == typed_problem(str(tmp_path))
    assert "genai_config.json is missing" in folder_problem(tmp_path)
    assert typed_problem("   ") == "type the path of a folder holding genai_config.json"
