"""Which service a request is for, when it does not say, and what that service is given:
pure, by the request's form.

Device events are commands (intent) unless they plainly ask for something else:
"summarize: …", "tl;dr …", "what's the sentiment of …", "write a python function …", a
code block, or they are feedback to the assistant ("that's not what I asked", "thanks,
perfect"), which the sentiment service scores. The service gets the text without the
words that asked for it ("summarize this:" is not part of what is summarized).
"""

from __future__ import annotations

import re

from slm_mesh.services.router.request import Task

_SUMMARIZE = re.compile(
    r"^\s*(summari[sz]e|sum up|tl;?dr|give me (a|the) (summary|gist)|(a |the )?summary of)\b"
    r"(\s+(of\s+)?(this|these|that|the following)(\s+(article|text|page|thread|message|email))?)?"
    r"(\s+for me)?\s*[:,-]?\s*",
    re.IGNORECASE,
)
_SENTIMENT = re.compile(
    r"^\s*(sentiment|(what'?s|what is) the (sentiment|tone|mood) of|"
    r"(is|was) (this|that) (review|message|comment) (positive|negative))\b"
    r"(\s+(this|that|the following)(\s+(review|message|comment|text))?)?\s*[:?,-]?\s*",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"^\s*(write|generate|give me|show me) (me )?(a |an |the |some )?"
    r"(python|bash|shell|javascript|js|yaml|regex|regular expression|sql|code|function|"
    r"script|snippet|automation)\b",
    re.IGNORECASE,
)
#: Feedback to the assistant: praise, thanks and complaints about what it just did. Only
#: short sentences that ask for nothing (no command verb) count, so "great, turn on the
#: lights" is still a command.
_FEEDBACK = re.compile(
    r"^\s*(thanks|thank you|cheers|ta|nice one|good job|well done|perfect|great|brilliant|"
    r"awesome|love (it|that)|that'?s (not|wrong|right|great|perfect|brilliant|better|worse|"
    r"useless|rubbish)|that was (wrong|right|great|perfect|useless)|wrong (light|one|room|"
    r"device|answer)|you (got it wrong|misheard|did(n'?t| not)|never|always)|no,? (that'?s|"
    r"not that|wrong)|stop getting|useless|rubbish|terrible|awful)\b",
    re.IGNORECASE,
)
_COMMAND_WORDS = re.compile(
    r"\b(turn|switch|set|open|close|lock|unlock|start|stop (the|a)|play|pause|dim|raise|lower|"
    r"add|remind|call|what(?! i\b)|when|where|how)\b",
    re.IGNORECASE,
)
_FEEDBACK_WORDS = 12


def pick_task(text: str, asked: Task | None = None) -> Task:
    if asked is not None:
        return asked
    if "```" in text or _CODE.search(text):
        return "code"
    if _SUMMARIZE.search(text):
        return "summarize"
    if _SENTIMENT.search(text) or _is_feedback(text):
        return "sentiment"
    return "intent"


def _is_feedback(text: str) -> bool:
    return (
        bool(_FEEDBACK.search(text))
        and len(text.split()) <= _FEEDBACK_WORDS
        and not _COMMAND_WORDS.search(text)
    )


def task_text(text: str, task: Task) -> str:
    """What the service is given: the text without the words that asked for it, and
    without quotes around it."""
    lead = {"summarize": _SUMMARIZE, "sentiment": _SENTIMENT}.get(task)
    found = lead.match(text) if lead is not None else None
    rest = text[found.end() :] if found is not None and found.end() < len(text) else text
    rest = rest.strip()
    if len(rest) > 1 and rest[0] == rest[-1] and rest[0] in "\"'":
        rest = rest[1:-1].strip()
    return rest or text
