"""Which service a request is for, when it does not say: pure, by the request's form.

Device events are commands (intent) unless they plainly ask for something else:
"summarize: …", "tl;dr …", "what's the sentiment of …", "write a python function …", or
a code block.
"""

from __future__ import annotations

import re

from slm_mesh.services.router.request import Task

_SUMMARIZE = re.compile(
    r"^\s*(summari[sz]e|sum up|tl;?dr|give me (a|the) (summary|gist)|(a |the )?summary of)\b",
    re.IGNORECASE,
)
_SENTIMENT = re.compile(
    r"^\s*(sentiment|(what'?s|what is) the (sentiment|tone|mood) of|"
    r"(is|was) (this|that) (review|message|comment) (positive|negative))\b",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"^\s*(write|generate|give me|show me) (me )?(a |an |the |some )?"
    r"(python|bash|shell|javascript|js|yaml|regex|regular expression|sql|code|function|"
    r"script|snippet|automation)\b",
    re.IGNORECASE,
)


def pick_task(text: str, asked: Task | None = None) -> Task:
    if asked is not None:
        return asked
    if "```" in text or _CODE.search(text):
        return "code"
    if _SUMMARIZE.search(text):
        return "summarize"
    if _SENTIMENT.search(text):
        return "sentiment"
    return "intent"
