"""The factory's bookkeeping, without PyTorch: curves, early stopping, the staged plugin
folder, the model card, data checks, and finding what the factory made by name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from slm_mesh.factory.card import (
    JSON_FILE,
    MARKDOWN_FILE,
    ModelCard,
    Source,
    read_card,
    write_card,
)
from slm_mesh.factory.curves import Curves, EarlyStopping, LossPoint
from slm_mesh.factory.distil_intent import kept_layers, read_general_text
from slm_mesh.factory.errors import FactoryError, MissingFactoryExtra
from slm_mesh.factory.extra import require_extra
from slm_mesh.factory.finetune_sentiment import read_training
from slm_mesh.factory.output import staged_folder
from slm_mesh.factory.training import TrainingSettings, split
from slm_mesh.services.cli import main
from slm_mesh.services.errors import PluginError
from slm_mesh.services.runtime.manifest import Manifest, write_manifest
from slm_mesh.services.runtime.plugins import factory_plugins, load_plugin


@pytest.fixture(autouse=True)
def _logs_stay_where_pytest_left_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """`main()` points logging at the stderr it sees, which is pytest's capture for this
    test only; later tests would then log to a closed file."""
    monkeypatch.setattr("slm_mesh.services.cli.configure_logging", lambda **_: None)


def curves_of(*validation: float) -> Curves:
    curves = Curves()
    for step, value in enumerate(validation, start=1):
        curves.add(LossPoint(step=step, epoch=float(step), train=1.0 / step, validation=value))
    return curves


def test_the_best_point_is_the_lowest_validation_loss() -> None:
    curves = curves_of(0.9, 0.5, 0.4, 0.45, 0.6)
    assert curves.best is not None and curves.best.step == 3


def test_overfitting_is_marked_where_validation_loss_turns_up_after_the_best() -> None:
    curves = curves_of(0.9, 0.5, 0.4, 0.45, 0.6)
    assert curves.overfitting is not None and curves.overfitting.step == 4
    assert curves.as_json()["overfitting_step"] == 4
    assert "over-fitting" in curves.describe(curves.points[3])


def test_no_overfitting_point_while_validation_loss_still_falls() -> None:
    assert curves_of(0.9, 0.5, 0.4).overfitting is None


def test_a_loss_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="validation loss is nan"):
        curves_of(float("nan"))


def test_early_stopping_waits_patience_evaluations_without_improvement() -> None:
    stopping = EarlyStopping(patience=2)
    assert stopping.improved(0.5)
    assert not stopping.improved(0.6) and not stopping.should_stop
    assert not stopping.improved(0.55) and stopping.should_stop


def test_an_improvement_resets_the_patience() -> None:
    stopping = EarlyStopping(patience=2)
    stopping.improved(0.5)
    stopping.improved(0.6)
    assert stopping.improved(0.4) and not stopping.should_stop


@pytest.mark.parametrize(
    ("total", "layers", "kept"),
    [(6, 3, [0, 2, 5]), (6, 4, [0, 2, 3, 5]), (6, 2, [0, 5]), (6, 1, [5]), (12, 4, [0, 4, 7, 11])],
)
def test_a_student_keeps_layers_spread_over_the_teacher_with_the_last(
    total: int, layers: int, kept: list[int]
) -> None:
    assert kept_layers(total, layers) == kept


@pytest.mark.parametrize("layers", [0, 6, 7])
def test_a_student_as_deep_as_its_teacher_or_empty_is_refused(layers: int) -> None:
    with pytest.raises(FactoryError, match="between 1 and 5"):
        kept_layers(6, layers)


def test_the_split_is_seeded_and_keeps_every_item_once() -> None:
    items = list(range(100))
    train, validation = split(items, validation_share=0.1, seed=3)
    assert len(validation) == 10 and sorted(train + validation) == items
    assert split(items, validation_share=0.1, seed=3) == (train, validation)
    assert split(items, validation_share=0.1, seed=4) != (train, validation)


def test_too_little_data_for_a_validation_split_says_how_much_is_needed() -> None:
    with pytest.raises(ValueError, match="too few"):
        split(list(range(12)), validation_share=0.1, seed=0)


def test_training_settings_refuse_values_no_run_can_use() -> None:
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        TrainingSettings(epochs=0)
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        TrainingSettings(learning_rate=0)
    with pytest.raises(ValueError, match="average_from must be an epoch from 0 to below 3"):
        TrainingSettings(epochs=3, average_from=3)


def test_the_plugin_folder_appears_only_when_the_recipe_finished(tmp_path: Path) -> None:
    target = tmp_path / "student"
    with staged_folder(target, force=False) as folder:
        (folder / "model.onnx").write_bytes(b"model")
        assert not target.exists()
    assert (target / "model.onnx").read_bytes() == b"model"
    assert [p.name for p in tmp_path.iterdir()] == ["student"]


def test_a_failed_or_stopped_run_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "student"
    with pytest.raises(KeyboardInterrupt), staged_folder(target, force=False) as folder:
        (folder / "model.onnx").write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_killed_run_s_leftovers_are_removed_by_the_next_run(tmp_path: Path) -> None:
    leftover = tmp_path / ".student.partial-999999999"
    leftover.mkdir()
    with staged_folder(tmp_path / "student", force=False):
        pass
    assert not leftover.exists()


def test_a_running_run_s_staging_folder_is_left_alone(tmp_path: Path) -> None:
    other = tmp_path / f".student.partial-{os.getppid()}"
    other.mkdir()
    with staged_folder(tmp_path / "student", force=False):
        pass
    assert other.exists()


def test_an_existing_folder_is_replaced_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "student"
    target.mkdir()
    (target / "old").write_text("old")
    with pytest.raises(FactoryError, match="--force"), staged_folder(target, force=False):
        pass
    with staged_folder(target, force=True) as folder:
        (folder / "new").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new"]


def test_the_model_card_is_written_as_json_and_markdown(tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(b"weights")
    card = ModelCard(
        name="student",
        recipe="distil-intent",
        task="encoder",
        summary="A student.",
        licence="Apache-2.0",
        sources=[Source.of("teacher", source, licence="Apache-2.0")],
        seed=7,
        split={"train": 90, "validation": 10},
        hyperparameters={"epochs": 3},
        curves=curves_of(0.5, 0.4, 0.6),
        metrics={"accuracy": 97.1},
    )
    write_card(tmp_path, card)
    data = read_card(tmp_path)
    assert data["sources"][0]["sha256"] == _sha(b"weights")
    assert data["curves"]["best_step"] == 2 and data["curves"]["overfitting_step"] == 3
    assert data["seed"] == 7 and data["metrics"] == {"accuracy": 97.1}
    markdown = (tmp_path / MARKDOWN_FILE).read_text()
    assert "| 2.00 | 2 | 0.5000 | 0.4000 (best: kept) |" in markdown
    assert "(over-fitting from here)" in markdown and "loss_curves.png" in markdown


def test_an_unreadable_card_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / JSON_FILE).write_text("{not json")
    with pytest.raises(FactoryError, match="not a readable model card"):
        read_card(tmp_path)


def test_general_text_is_read_from_a_tsv_text_column_or_plain_lines(tmp_path: Path) -> None:
    tsv = tmp_path / "reviews.tsv"
    tsv.write_text("text\tlabel\na fine film .\tpositive\n\t\nno good .\tnegative\n")
    plain = tmp_path / "lines.txt"
    plain.write_text("first line\n\nsecond line\n")
    assert read_general_text(tsv) == ["a fine film .", "no good ."]
    assert read_general_text(plain) == ["first line", "second line"]


def test_general_text_is_read_from_the_prompts_of_a_yaml_case_list(tmp_path: Path) -> None:
    cases = tmp_path / "code_requests.yaml"
    cases.write_text(
        "# requests, not commands\n"
        "- prompt: porch light on at sunset\n  format: homeassistant-automation\n"
        "- text: how are you today\n"
        "- just a string\n"
    )
    assert read_general_text(cases) == ["porch light on at sunset", "how are you today"]
    (tmp_path / "mapping.yaml").write_text("prompt: one\n")
    with pytest.raises(FactoryError, match="expected a list of cases"):
        read_general_text(tmp_path / "mapping.yaml")
    (tmp_path / "broken.yaml").write_text("- [unclosed\n")
    with pytest.raises(FactoryError, match="not valid YAML"):
        read_general_text(tmp_path / "broken.yaml")


def test_missing_or_empty_general_text_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FactoryError, match="cannot read general text"):
        read_general_text(tmp_path / "absent.txt")
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(FactoryError, match="no sentences"):
        read_general_text(tmp_path / "empty.txt")


def test_sentiment_training_rows_with_unknown_labels_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "train.tsv"
    path.write_text("text\tlabel\ngreat\tpositive\nmeh\tneutral\n")
    with pytest.raises(FactoryError, match=r"train.tsv:3: `label` must be one of"):
        read_training(path)
    with pytest.raises(FactoryError, match="does not exist"):
        read_training(tmp_path / "absent.tsv")


def test_a_missing_training_file_ends_the_command_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "factory",
            "finetune-sentiment",
            "--train",
            str(tmp_path / "absent.tsv"),
            "--cache-dir",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "absent.tsv does not exist" in capsys.readouterr().err


def test_a_missing_extra_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(MissingFactoryExtra, match=r"pip install 'slm-mesh\[factory\]'"):
        require_extra()


def test_a_factory_plugin_is_found_by_its_name_once_finished(tmp_path: Path) -> None:
    done, unfinished = tmp_path / "factory" / "student", tmp_path / "factory" / "half"
    for folder in (done, unfinished):
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"onnx")
        (folder / "tokenizer.json").write_text("{}")
    manifest = Manifest(name="student", task="encoder", files={"model.onnx": _sha(b"onnx")})
    write_manifest(done, manifest)
    assert factory_plugins(tmp_path) == {"student": done}
    assert load_plugin("student", cache_dir=tmp_path).name == "student"
    with pytest.raises(PluginError, match="installed: minilm, student"):
        load_plugin("half", cache_dir=tmp_path)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_recipe_has_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["factory", "--help"])
    out = capsys.readouterr().out
    for command in ("distil-intent", "finetune-sentiment", "domain-tune", "learn", "report"):
        assert command in out


def test_the_command_line_loads_no_recipe_s_work_nor_its_libraries() -> None:
    """Every `slm-mesh` start (the health check runs every 30 s) builds the factory's
    options: that must not load PyTorch, the recipes' work, or what they use."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from slm_mesh.services.cli import _parser\n"
        "_parser()\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = set(subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split())  # fmt: skip
    heavy = {"torch", "transformers", "peft", "matplotlib", "httpx"}
    assert not {name for name in loaded if name.split(".")[0] in heavy}
    work = {"distil_run", "finetune_run", "learn_run", "report_measure", "domain_model"}
    assert not {name for name in loaded if name.rsplit(".", 1)[-1] in work}
    assert not {name for name in loaded if name.startswith("slm_mesh.services.router")}
