"""Extractive summaries: the text's most informative sentences, unchanged, in their order.

A sentence scores by how frequent its content words are in the whole text (the words a
story keeps coming back to): their mean frequency times `words ** 0.6`, between the plain
mean (which lets short lines win) and the sum (which lets run-on sentences win), plus small
shares for words of the headline and for the first sentence. Reference extracts of news
behave like a sum-leaning frequency ranking (lead and centroid trail a mean-frequency score
there), so the score leans that way; tests/data/summarizer/README.md tells how this was
chosen. Sentences are then taken best first, skipping any that mostly repeats one already
taken, until the budget is spent. With a sentence encoder the best candidates also score by
closeness to their centroid, and near-paraphrases count as repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.summarizer.document import Document
from slm_mesh.services.summarizer.summary import Summary, check_budget

Embed = Callable[[Sequence[str]], npt.NDArray[np.float32]]
"""Texts in, unit-length vectors out (one row per text), e.g. `Embedder.embed`."""

#: Without a budget, a summary is this many sentences.
DEFAULT_SENTENCES = 3
# Score = mean word frequency * words ** _LENGTH_EXPONENT: 0 is the plain mean, 1 the sum.
_LENGTH_EXPONENT = 0.6
_TITLE_WEIGHT = 0.1
_FIRST_SENTENCE_BONUS = 0.1
# A sentence that shares this much of its content words with a chosen one is a repeat.
_REPEAT_OVERLAP = 0.7
_REPEAT_COSINE = 0.95
_CENTROID_WEIGHT = 0.25


class ExtractiveSummarizer:
    """Summaries made of the source's own sentences, so nothing in them is made up."""

    def __init__(self, *, embed: Embed | None = None, max_embedded: int = 16) -> None:
        if max_embedded < 1:
            raise ValueError(f"max_embedded must be at least 1, got {max_embedded}")
        self._embed = embed
        # Encoding costs 1-3 ms a sentence on two cores: only the best candidates are encoded.
        self._max_embedded = max_embedded

    def summarize(
        self, text: str, *, max_sentences: int | None = None, max_chars: int | None = None
    ) -> Summary:
        """At most `max_sentences` sentences and `max_chars` characters (`Summary.text`)."""
        check_budget(max_sentences, max_chars)
        if max_sentences is None and max_chars is None:
            max_sentences = DEFAULT_SENTENCES
        document = Document.read(text)
        if not document.spans:
            return Summary(())
        scores = _frequency_scores(document)
        order = _ranked(document, scores)
        vectors: dict[int, npt.NDArray[np.float32]] = {}
        if self._embed is not None and len(order) > 1:
            order, vectors = self._rerank(document, order, scores)
        chosen = _select(
            document,
            order,
            max_sentences=max_sentences,
            max_chars=max_chars,
            vectors=vectors,
        )
        return document.summary(chosen)

    def _rerank(
        self, document: Document, order: list[int], scores: npt.NDArray[np.float64]
    ) -> tuple[list[int], dict[int, npt.NDArray[np.float32]]]:
        assert self._embed is not None  # only called with an encoder
        head = order[: self._max_embedded]
        matrix = np.asarray(self._embed([document.sentence(i) for i in head]), dtype=np.float32)
        centroid = matrix.mean(axis=0)
        centroid /= float(np.linalg.norm(centroid)) or 1.0
        closeness = matrix @ centroid
        vectors = dict(zip(head, matrix, strict=True))
        blended = {
            i: float(scores[i]) + _CENTROID_WEIGHT * float(c)
            for i, c in zip(head, closeness, strict=True)
        }
        reranked = sorted(head, key=lambda i: (document.headings[i], -blended[i], i))
        return reranked + order[self._max_embedded :], vectors


def _frequency_scores(document: Document) -> npt.NDArray[np.float64]:
    """How informative each sentence is, from word frequencies alone (headings score 0)."""
    frequencies = document.frequencies()
    if not frequencies:
        return np.zeros(len(document.spans))
    top = max(frequencies.values())
    title = document.title_words()
    first_body = next((i for i, h in enumerate(document.headings) if not h), -1)
    scores = np.zeros(len(document.spans))
    for i, words in enumerate(document.words):
        if not words or document.headings[i]:
            continue
        mean = sum(frequencies[word] for word in words) / (top * len(words))
        score = mean * len(words) ** _LENGTH_EXPONENT
        if title:
            score += _TITLE_WEIGHT * len(title.intersection(words)) / len(title)
        if i == first_body:
            score += _FIRST_SENTENCE_BONUS
        scores[i] = score
    return scores


def _select(
    document: Document,
    order: Sequence[int],
    *,
    max_sentences: int | None,
    max_chars: int | None,
    vectors: dict[int, npt.NDArray[np.float32]] | None = None,
) -> list[int]:
    """Sentences in `order` that fit the budget and repeat none taken before them."""
    chosen: list[int] = []
    used = -1  # characters, less the space before the first sentence
    for i in order:
        if max_sentences is not None and len(chosen) >= max_sentences:
            break
        length = document.spans[i].end - document.spans[i].start
        if max_chars is not None and used + 1 + length > max_chars:
            continue
        if _repeats(document, i, chosen, vectors or {}):
            continue
        chosen.append(i)
        used += 1 + length
    if not chosen and max_chars is not None:
        shortest = min(end - start for start, end in document.spans)
        raise InvalidRequestError(
            f"max_chars={max_chars} is shorter than every sentence of the text; "
            f"allow at least {shortest} characters",
            field="max_chars",
        )
    return chosen


def _ranked(document: Document, scores: npt.NDArray[np.float64]) -> list[int]:
    """Best first; headings last (a title is no summary), earlier first among equals."""
    return sorted(range(len(scores)), key=lambda i: (document.headings[i], -scores[i], i))


def _repeats(
    document: Document, i: int, chosen: list[int], vectors: dict[int, npt.NDArray[np.float32]]
) -> bool:
    words = set(document.words[i])
    for j in chosen:
        if words and len(words & set(document.words[j])) >= _REPEAT_OVERLAP * len(words):
            return True
        if i in vectors and j in vectors and float(vectors[i] @ vectors[j]) > _REPEAT_COSINE:
            return True
    return False
