"""Training a home's head: built from the home's own names, and cached by what went in."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from slm_mesh.services.home.model import Home, parse_home
from slm_mesh.services.intent.slots import OUT_OF_SCOPE
from slm_mesh.services.intent.training import TrainingConfig, load_or_train, training_sentences

pytestmark = pytest.mark.slow  # each test samples Home Assistant's templates and fits heads

SMALL = TrainingConfig(per_intent=6, per_natural_template=1, per_out_of_scope_template=1)
HOME = parse_home("""
areas: [{name: Attic, id: attic}]
entities: [{name: Skylight Lamp, id: light.skylight, area: attic}]
""")


class CountingEmbed:
    """A deterministic stand-in encoder that counts the sentences it is asked to embed."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        rng = np.random.default_rng(abs(hash(tuple(texts))) % 2**32)
        return rng.normal(size=(len(texts), 8)).astype(np.float32)


def test_training_sentences_use_the_homes_names_and_include_out_of_scope() -> None:
    sentences = training_sentences(HOME, SMALL)
    texts = " ".join(s.text for s in sentences)
    assert "skylight lamp" in texts.casefold() and "attic" in texts.casefold()
    assert OUT_OF_SCOPE in {s.label for s in sentences}
    assert training_sentences(HOME, SMALL) == sentences


def test_a_trained_head_is_cached_and_reused(tmp_path: Path) -> None:
    embed = CountingEmbed()
    first = load_or_train(HOME, embed=embed, model_sha256="m", cache_dir=tmp_path, config=SMALL)
    trained_on = embed.calls
    second = load_or_train(HOME, embed=embed, model_sha256="m", cache_dir=tmp_path, config=SMALL)
    assert trained_on > 0 and embed.calls == trained_on
    assert second.full.labels == first.full.labels == first.words.labels
    np.testing.assert_array_equal(second.full.w1, first.full.w1)
    np.testing.assert_array_equal(second.words.w1, first.words.w1)


def test_a_changed_home_or_model_trains_anew(tmp_path: Path) -> None:
    embed = CountingEmbed()
    load_or_train(HOME, embed=embed, model_sha256="m", cache_dir=tmp_path, config=SMALL)
    calls = embed.calls
    other = Home(areas=HOME.areas, entities=HOME.entities[:0])
    load_or_train(other, embed=embed, model_sha256="m", cache_dir=tmp_path, config=SMALL)
    load_or_train(HOME, embed=embed, model_sha256="other", cache_dir=tmp_path, config=SMALL)
    assert embed.calls > 2 * calls - 1
    assert len(list(tmp_path.glob("intent-head-*.npz"))) == 3
    assert len(list(tmp_path.glob("intent-words-*.npz"))) == 3
