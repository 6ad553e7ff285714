"""Fitting: NB-weighted logistic regression learns, stops at its best epoch, and averages."""

import numpy as np
import pytest

from slm_mesh.services.sentiment.calibration import (
    expected_calibration_error,
    fit_temperature,
    log_loss,
)
from slm_mesh.services.sentiment.features import term_matrix
from slm_mesh.services.sentiment.fit import (
    Epoch,
    Examples,
    FitConfig,
    LinearFit,
    average,
    fit_linear,
)


def examples(
    count: int, *, seed: int, noise: float = 1.0, words_tell: bool = True
) -> tuple[Examples, list[str]]:
    """Half positive; the words "great"/"awful" tell the label (unless not `words_tell`), the
    2-d embedding only hints at it, and a random word says nothing."""
    rng = np.random.default_rng(seed)
    positive = np.arange(count) % 2 == 0
    said = ["great" if p and words_tell else "awful" if words_tell else "" for p in positive]
    texts = [f"{word} thing {rng.integers(40)}" for word in said]
    dense = np.column_stack([np.where(positive, 0.3, -0.3), np.zeros(count)])
    dense += rng.normal(0.0, noise, dense.shape)
    return (
        Examples(
            dense=dense,
            terms=term_matrix(texts),
            positive=positive.astype(np.float64),
            weights=np.ones(count),
        ),
        texts,
    )


def test_the_words_carry_the_label_and_the_fit_finds_them() -> None:
    train, _ = examples(200, seed=0)
    validation, _ = examples(60, seed=1)
    fitted, epochs = fit_linear(train, validation)
    logits = fitted.logits(validation.dense, validation.terms)
    assert np.mean((logits > 0) == (validation.positive > 0.5)) == 1.0
    assert epochs[-1].validation_accuracy == 1.0


def test_training_stops_after_patience_epochs_without_a_better_validation_loss() -> None:
    # Only noise words and a faint hint: the fit soon learns the noise, and validation sees it.
    train, _ = examples(200, seed=0, noise=3.0, words_tell=False)
    validation, _ = examples(60, seed=1, noise=3.0, words_tell=False)
    config = FitConfig(patience=3, max_epochs=500)
    _, epochs = fit_linear(train, validation, config)
    best = min(epochs, key=lambda epoch: epoch.validation_loss)
    assert len(epochs) < 500
    assert epochs[-1].number - best.number == config.patience


def test_the_returned_weights_are_those_of_the_best_epoch() -> None:
    train, _ = examples(200, seed=0, noise=3.0, words_tell=False)
    validation, _ = examples(60, seed=1, noise=3.0, words_tell=False)
    seen: list[Epoch] = []
    fitted, epochs = fit_linear(train, validation, report=lambda epoch, _: seen.append(epoch))
    best = min(epochs, key=lambda epoch: epoch.validation_loss)
    logits = fitted.logits(validation.dense, validation.terms)
    assert best.number < epochs[-1].number
    assert log_loss(logits, validation.positive) == pytest.approx(best.validation_loss)
    assert seen == epochs


def test_the_same_data_gives_the_same_weights() -> None:
    train, _ = examples(100, seed=0)
    validation, _ = examples(30, seed=1)
    first, _ = fit_linear(train, validation)
    second, _ = fit_linear(train, validation)
    np.testing.assert_array_equal(first.dense_weights, second.dense_weights)
    np.testing.assert_array_equal(first.term_weights, second.term_weights)


def test_words_seen_once_get_no_weight() -> None:
    train, texts = examples(100, seed=0)
    texts[0] += " lonely"
    train = Examples(train.dense, term_matrix(texts), train.positive, train.weights)
    validation, _ = examples(30, seed=1)
    fitted, _ = fit_linear(train, validation)
    assert term_matrix(["lonely"]).buckets[0] not in fitted.term_buckets
    assert term_matrix(["great"]).buckets[0] in fitted.term_buckets


def test_fitting_without_validation_sentences_is_refused() -> None:
    train, _ = examples(10, seed=0)
    empty, _ = examples(0, seed=1)
    with pytest.raises(ValueError, match="validation"):
        fit_linear(train, empty)


def test_the_average_of_fits_scores_the_mean_of_their_logits() -> None:
    fits = [
        LinearFit(np.array([1.0, 0.0]), np.array([3, 7]), np.array([1.0, 2.0]), bias=0.0),
        LinearFit(np.array([0.0, 1.0]), np.array([7, 9]), np.array([4.0, -2.0]), bias=1.0),
    ]
    mean = average(fits)
    assert mean.term_buckets.tolist() == [3, 7, 9]
    np.testing.assert_allclose(mean.term_weights, [0.5, 3.0, -1.0])
    np.testing.assert_allclose(mean.dense_weights, [0.5, 0.5])
    assert mean.bias == 0.5


def test_temperature_scaling_undoes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0.0, 2.0, 5000)
    positive = (rng.random(5000) < 1 / (1 + np.exp(-true_logits))).astype(np.float64)
    assert fit_temperature(true_logits * 3.0, positive) == pytest.approx(3.0, rel=0.1)


def test_calibration_error_is_small_when_confidence_matches_accuracy() -> None:
    rng = np.random.default_rng(0)
    probability = rng.uniform(0.0, 1.0, 20000)
    positive = (rng.random(20000) < probability).astype(np.float64)
    assert expected_calibration_error(probability, positive) < 0.02
    overconfident = np.where(probability > 0.5, 0.99, 0.01)
    assert expected_calibration_error(overconfident, positive) > 0.15
