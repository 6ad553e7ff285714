"""What a summary is: sentences of the source, each with where it stands there."""

from __future__ import annotations

from dataclasses import dataclass

from slm_mesh.services.errors import InvalidRequestError


@dataclass(frozen=True)
class SummarySentence:
    """A sentence of the source, unchanged: `source[start:end] == text`."""

    text: str
    start: int
    """Character offset of its first character in the source."""
    end: int
    """Character offset just past its last character."""


@dataclass(frozen=True)
class Summary:
    """Chosen sentences in the order they appear in the source."""

    sentences: tuple[SummarySentence, ...]

    @property
    def text(self) -> str:
        """The sentences joined by single spaces: what a budget in characters counts."""
        return " ".join(sentence.text for sentence in self.sentences)


def check_budget(max_sentences: int | None, max_chars: int | None) -> None:
    """Refuse a budget of less than one sentence or character."""
    for field, value in (("max_sentences", max_sentences), ("max_chars", max_chars)):
        if value is not None and value < 1:
            raise InvalidRequestError(f"{field} must be at least 1, got {value}", field=field)
