"""The learned sentences file, and how the head's training takes what it holds."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.home.files import demo_home_path
from slm_mesh.services.home.model import load_home
from slm_mesh.services.intent.head import _held_out, train_head
from slm_mesh.services.intent.learned import (
    LearnedFileError,
    LearnedSentence,
    learned_path,
    read_learned,
    write_learned,
)
from slm_mesh.services.intent.training import (
    LEARNED_VARIANTS,
    TrainingConfig,
    cache_key,
    learned_variants,
    training_sentences,
)

HOME = load_home(demo_home_path())
REST = LearnedSentence(
    "give the desk lamp a rest", "HassTurnOff", {"name": "Desk Lamp", "domain": "light"}, "Study"
)
DARK = LearnedSentence("the lounge is a cave", "HassTurnOn", {"domain": "light", "area": "Lounge"})
MOON = LearnedSentence("tell me about the moon", "OutOfScope", source="correction")


def test_the_file_round_trips_and_only_its_owner_may_read_it(tmp_path: Path) -> None:
    path = learned_path(tmp_path)
    write_learned(path, [REST, DARK, MOON])
    assert read_learned(path) == [REST, DARK, MOON]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["intent.yaml"]  # no partial file left


def test_no_file_is_nothing_learned(tmp_path: Path) -> None:
    assert read_learned(learned_path(tmp_path)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sentences: [unclosed\n", "cannot read the learned sentences"),
        ("- a list\n", "has no `sentences` list"),
        ("sentences:\n  - {intent: HassTurnOn}\n", "learned sentence 1 is damaged"),
        ("sentences:\n  - {text: a, intent: HassTurnOn, slots: {name: [x]}}\n", "damaged"),
    ],
)
def test_a_damaged_file_says_which_and_what_to_do(tmp_path: Path, text: str, message: str) -> None:
    path = learned_path(tmp_path)
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(LearnedFileError) as caught:
        read_learned(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value) and "factory learn" in str(caught.value)


def test_a_named_device_brings_its_domain_so_the_label_leaves_it_out() -> None:
    assert REST.label == "HassTurnOff"
    assert DARK.label == "HassTurnOn domain=light"
    assert MOON.label == "OutOfScope"


def test_variants_say_other_names_of_the_same_kind_and_wrap_the_sentence() -> None:
    texts = learned_variants(REST, HOME, TrainingConfig())
    assert texts[0] == REST.text
    assert len(set(texts)) == LEARNED_VARIANTS
    lights = {n.casefold() for e in HOME.entities if e.domain == "light" for n in e.names}
    renamed = {t for t in texts if t.startswith("give the ") and t.endswith(" a rest")}
    assert {t.removeprefix("give the ").removesuffix(" a rest") for t in renamed} <= lights
    assert len(renamed) > 3
    assert sum(REST.text in t for t in texts) >= 6, "the sentence itself, wrapped, weighs most"
    places = learned_variants(DARK, HOME, TrainingConfig())
    assert any("the kitchen is a cave" in t for t in places)
    assert learned_variants(MOON, HOME, TrainingConfig())[0] == MOON.text


def test_the_cache_key_is_the_same_without_learned_sentences_and_changes_with_them() -> None:
    config = TrainingConfig()
    plain = cache_key(HOME, "sha", config)
    assert cache_key(HOME, "sha", config, ()) == plain
    once = cache_key(HOME, "sha", config, [REST])
    assert once != plain
    assert cache_key(HOME, "sha", config, [replace(REST, intent="HassTurnOn")]) != once


def test_sentences_without_a_group_are_never_held_out() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    targets = ["a", "b"] * 30
    groups: list[str | None] = [f"g{i % 10}" for i in range(50)] + [None] * 10
    assert train_head(x, targets, groups=groups, holdout=0.5, epochs=1).labels == ("a", "b")
    held = _held_out(groups, 0.5, 0)
    assert held[:50].any() and not held[50:].any()


@pytest.mark.slow
def test_learned_sentences_join_the_training_set_and_leave_the_rest_as_it_was() -> None:
    config = TrainingConfig()
    before = training_sentences(HOME, config)
    after = training_sentences(HOME, config, [REST, MOON])
    added = after[len(before) :]
    assert after[: len(before)] == before
    assert 1.5 * LEARNED_VARIANTS < len(added) <= 2 * LEARNED_VARIANTS
    assert {(s.label, s.group) for s in added} == {("HassTurnOff", None), ("OutOfScope", None)}
