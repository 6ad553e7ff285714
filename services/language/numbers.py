"""Numbers written as words, read as numbers: "thirty" -> 30, "twenty-one" -> 21, "half" -> 50 %.

Spoken commands come from speech-to-text, which writes numbers either way; the slot
resolver first rewrites number words to digits so that one set of patterns reads both.
"""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_HUNDRED_HEADS = {"a": 1, **{word: value for word, value in _UNITS.items() if value > 0}}


def words_to_digits(text: str) -> str:
    """Rewrite number words in lower-case `text` as digits, leaving everything else.

    Works token by token: "a hundred" and "<unit> hundred [and]" start a number, a tens
    word may take a unit after it ("twenty-one", "twenty one").
    """
    tokens = re.split(r"(\s+|-)", text)
    words = [t for t in tokens if t.strip() and t != "-"]
    out: list[str] = []
    i = 0
    while i < len(words):
        value, used = _read_number(words, i)
        if used:
            out.append(str(value))
            i += used
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def _read_number(words: list[str], i: int) -> tuple[int, int]:
    """The number starting at words[i] and how many words it used (0: none)."""
    total, used = 0, 0
    if i + 1 < len(words) and words[i] in _HUNDRED_HEADS and words[i + 1] == "hundred":
        total, used = 100 * _HUNDRED_HEADS[words[i]], 2
        if i + used < len(words) and words[i + used] == "and":
            rest, rest_used = _read_tens(words, i + used + 1)
            if rest_used:
                return total + rest, used + 1 + rest_used
    rest, rest_used = _read_tens(words, i + used)
    return total + rest, used + rest_used


def _read_tens(words: list[str], i: int) -> tuple[int, int]:
    if i >= len(words):
        return 0, 0
    word = words[i]
    if word in _TENS:
        if i + 1 < len(words) and 0 < _UNITS.get(words[i + 1], 0) < 10:
            return _TENS[word] + _UNITS[words[i + 1]], 2
        return _TENS[word], 1
    if word in _UNITS:
        return _UNITS[word], 1
    return 0, 0


def as_number(value: float) -> int | float:
    """Whole numbers as int, so that `40.0` compares and prints as `40`."""
    return int(value) if float(value).is_integer() else value


def normalize(text: str) -> str:
    """Lower case, number words as digits, punctuation that carries no meaning dropped."""
    text = text.casefold().replace("\u2019", "'")
    text = re.sub(r"[^\w\s'%°.-]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    return " ".join(words_to_digits(text).split())
