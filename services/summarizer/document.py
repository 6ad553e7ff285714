"""A text read once for summarizing: its sentences, their content words, its headings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from slm_mesh.services.summarizer._words import content_words
from slm_mesh.services.summarizer.sentences import BULLETS, Span, split_sentences
from slm_mesh.services.summarizer.summary import Summary, SummarySentence

_CLOSING = ".!?:;\u2026\"'\u201d\u2019\u00bb)]}"
# A heading is a short line of its own: a title, "Opening hours", "Step 2".
_HEADING_WORDS = 15


@dataclass(frozen=True)
class Document:
    text: str
    spans: tuple[Span, ...]
    words: tuple[tuple[str, ...], ...]
    """Content-word stems of each sentence."""
    headings: tuple[bool, ...]
    """Whether each sentence is a heading: it names the topic, a summary does not repeat it."""

    @classmethod
    def read(cls, text: str) -> Document:
        spans = split_sentences(text)
        words = tuple(tuple(content_words(text[start:end])) for start, end in spans)
        headings = tuple(
            _is_heading(text, span, count=len(words[i]), last=i == len(spans) - 1)
            for i, span in enumerate(spans)
        )
        return cls(text=text, spans=spans, words=words, headings=headings)

    def sentence(self, index: int) -> str:
        start, end = self.spans[index]
        return self.text[start:end]

    def frequencies(self) -> Counter[str]:
        """How often each content word occurs in the whole text, headings included."""
        return Counter(word for words in self.words for word in words)

    def title_words(self) -> frozenset[str]:
        """The content words of the headings."""
        return frozenset(
            word
            for words, heading in zip(self.words, self.headings, strict=True)
            if heading
            for word in words
        )

    def summary(self, chosen: list[int]) -> Summary:
        """The chosen sentences in source order, with their offsets."""
        return Summary(
            tuple(
                SummarySentence(self.sentence(i), self.spans[i].start, self.spans[i].end)
                for i in sorted(chosen)
            )
        )


def _is_heading(text: str, span: Span, *, count: int, last: bool) -> bool:
    """A short line of its own, without closing punctuation, that more text follows."""
    if last or count > _HEADING_WORDS or text[span.end - 1] in _CLOSING:
        return False
    line_start = text.rfind("\n", 0, span.start) + 1
    line_end = text.find("\n", span.end)
    if line_end < 0 or text[line_start : span.start].strip() or text[span.end : line_end].strip():
        return False
    return text[span.start] not in BULLETS + "(" and not text[span.start].isdigit()
