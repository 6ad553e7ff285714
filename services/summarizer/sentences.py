"""Sentence spans: where each sentence starts and ends in the original text.

The text is never rewritten, so every sentence a summary returns can be pointed at in its
source. Two passes: lines make segments (blank lines end paragraphs; list items, and short
lines without closing punctuation such as headings, stand alone), then full stops inside a
segment end sentences unless an abbreviation, an initial or a lowercase continuation says
otherwise. Decimals and versions (3.5, v2.0.1) never split: a boundary needs a space after.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from slm_mesh.services.summarizer._words import word_set


class Span(NamedTuple):
    """One sentence: `text[start:end]`, without surrounding whitespace."""

    start: int
    end: int


# A stop (. ! ? … and runs like ?! or ...), closing quotes or brackets, then a space or the end.
_CLOSERS = "\"'\u201d\u2019\u00bb)]}"
_STOP = re.compile(rf"[.!?\u2026]+[{re.escape(_CLOSERS)}]*(?=\s|$)")
_LINE = re.compile(r"[^\n]*\n?")
#: Bullets: - * + and the bullet, triangle, circle, square and dash characters.
BULLETS = "-*+\u2022\u2023\u25e6\u25aa\u2013\u2014"
_LIST_MARKER = re.compile(
    rf"[ \t]*(?:[{re.escape(BULLETS)}]|\d{{1,3}}[.)]|[a-z][.)]|\(\w{{1,3}}\))[ \t]+"
)
_OPENERS = "\"'\u201c\u2018\u00ab([{"
_WORD = re.compile(r"[^\W\d_]+|\d+")
# Lines this short without closing punctuation are headings, chat lines or list entries.
_SHORT_LINE = 40
_JOINING_ENDS = tuple(",;-([/&\u2013\u2014")

# Titles before a name: never the end of a sentence.
_TITLES = word_set(
    "mr mrs ms messrs mme dr prof rev hon sen rep gov gen col lt capt sgt cpl maj adm brig "
    "cmdr insp det supt pres fr mt ft vs v cf viz approx e.g i.e eg ie esp incl ca"
)
# Abbreviations that stand before a number: "No. 5", "Fig. 3", "Jan. 12".
_BEFORE_NUMBERS = word_set(
    "no nos fig figs vol vols p pp ch sec art para ref tel ext op nr jan feb mar apr jun jul "
    "aug sep sept oct nov dec"
)
# Abbreviations that may also end a sentence: they do when the next word starts one.
_AMBIGUOUS = word_set("etc inc ltd co corp jr sr bros plc llc dept est al st a.m p.m")
_STARTERS = word_set(
    "a an the this that these those it its he she they we i you his her their our my your but "
    "and so yet or nor however in on at for from by with to of when while if after before "
    "there then as what who why how where which some many most all no not one both each "
    "meanwhile also last next today yesterday tomorrow mr mrs ms dr"
)


def split_sentences(text: str) -> tuple[Span, ...]:
    """The sentences of `text` in order; together they cover every non-space character."""
    spans: list[Span] = []
    for start, body, end in _segments(text):
        spans.extend(_split_segment(text, start, body, end))
    return tuple(spans)


def _segments(text: str) -> Iterator[tuple[int, int, int]]:
    """(start, body start after any list marker, end) of each paragraph, item or heading."""
    start: int | None = None
    body = 0
    previous = ""
    for line in _LINE.finditer(text):
        if line.start() == line.end():
            break
        content = line.group().strip()
        if not content:
            if start is not None:
                yield start, body, line.start()
                start = None
            continue
        marker = _LIST_MARKER.match(text, line.start())
        if start is not None and (marker or _stands_alone(previous, content)):
            yield start, body, line.start()
            start = None
        if start is None:
            start = line.start()
            body = marker.end() if marker else start
        previous = content
    if start is not None:
        yield start, body, len(text)


def _stands_alone(previous: str, content: str) -> bool:
    """Whether a short unpunctuated line ("Opening hours", "Alice: on my way") ends there."""
    if len(previous) >= _SHORT_LINE or previous.endswith(_JOINING_ENDS):
        return False
    if previous[-1] in ".!?\u2026" + _CLOSERS:
        return False  # the full stop decides, not the line break
    return content[0].isupper() or content[0].isdigit() or content[0] == "["


def _split_segment(text: str, start: int, body: int, end: int) -> Iterator[Span]:
    cursor = start
    for stop in _STOP.finditer(text, body, end):
        if _ends_sentence(text, stop.start(), stop.end(), end):
            span = _trimmed(text, cursor, stop.end())
            if span is not None:
                yield span
            cursor = stop.end()
    span = _trimmed(text, cursor, end)
    if span is not None:
        yield span


def _ends_sentence(text: str, stop_start: int, stop_end: int, end: int) -> bool:
    following = _next_word(text, stop_end, end)
    if following is None:
        return True
    punctuation = text[stop_start]
    first = following[0]
    if first.islower():
        return False  # "e.g. the", '"Stop!" she said', "... and then"
    if punctuation != "." or text[stop_start:stop_end].startswith(".."):
        return True
    word = _previous_word(text, stop_start)
    if word in _TITLES:
        return False
    if word in _BEFORE_NUMBERS and first.isdigit():
        return False
    dotted = "." in word  # U.S., a.m., e.u
    if word in _AMBIGUOUS or dotted or (len(word) == 1 and word.isalpha()):
        match = _WORD.match(following)
        return match is not None and match.group().lower() in _STARTERS
    return True


def _previous_word(text: str, stop_start: int) -> str:
    """The word before a full stop, lowercased, without opening quotes or brackets."""
    begin = stop_start
    while begin > 0 and not text[begin - 1].isspace():
        begin -= 1
    return text[begin:stop_start].lstrip(_OPENERS).lower()


def _next_word(text: str, position: int, end: int) -> str | None:
    """The next non-space run within the segment, less its opening quotes or brackets."""
    while position < end and text[position].isspace():
        position += 1
    if position >= end:
        return None
    stop = position
    while stop < end and not text[stop].isspace():
        stop += 1
    run = text[position:stop]
    return run.lstrip(_OPENERS) or run


def _trimmed(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if start < end else None
