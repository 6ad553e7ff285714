"""Content words for scoring: lowercase, alphanumeric, stemmed, without function words."""

from __future__ import annotations

import re

from slm_mesh.services.summarizer._porter import stem

_WORD = re.compile(r"[a-z0-9]+")


def word_set(words: str) -> frozenset[str]:
    """A set from words written in a string, one space apart."""
    return frozenset(words.split())


# Function words, plus the reporting verbs and titles every news story repeats ("said",
# "Mr"): they are frequent without saying what the story is about.
STOPWORDS = word_set(
    "a about above after again against all also am an and any are aren as at be because been "
    "before being below between both but by can cannot could couldn did didn do does doesn "
    "doing don down during each either else ever every few for from further had hadn has hasn "
    "have haven having he her here hers herself him himself his how however i if in into is "
    "isn it its itself just let ll many may me might more most much must mustn my myself "
    "neither no nor not now of off on once one only or other others our ours ourselves out "
    "over own per re same say said says saying shall shan she should shouldn since so some "
    "such than that the their theirs them themselves then there these they this those though "
    "through thus to too under until up upon us ve very via was wasn we were weren what when "
    "where whether which while who whom whose why will with within without won would wouldn "
    "yet you your yours yourself yourselves s t d m mr mrs ms dr told according added"
)


def content_words(text: str) -> list[str]:
    """Stems of the words that carry meaning ("Profits rose" -> ["profit", "rose"])."""
    return [stem(word) for word in _WORD.findall(text.lower()) if word not in STOPWORDS]
