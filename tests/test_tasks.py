"""Which service a request is for, by its form, when the request does not say."""

from __future__ import annotations

import pytest

from slm_mesh.services.router.request import Task
from slm_mesh.services.router.tasks import pick_task, task_text


def test_an_explicit_task_wins_over_the_form() -> None:
    assert pick_task("turn on the lights", "summarize") == "summarize"
    assert pick_task("summarize: the meeting ran long", "intent") == "intent"


@pytest.mark.parametrize(
    "text",
    [
        "summarize: the meeting ran long and nobody decided anything",
        "Summarise this article for me",
        "sum up the thread",
        "tl;dr the release notes",
        "TLDR: long email follows",
        "give me the gist of this page",
        "summary of the minutes",
    ],
)
def test_requests_for_a_summary(text: str) -> None:
    assert pick_task(text) == "summarize"


@pytest.mark.parametrize(
    "text",
    [
        "what's the sentiment of this review: great kettle",
        "what is the tone of this message",
        "sentiment: I waited an hour for nothing",
        "is this review positive? loved it",
    ],
)
def test_requests_for_sentiment(text: str) -> None:
    assert pick_task(text) == "sentiment"


@pytest.mark.parametrize(
    "text",
    [
        "write a python function that reverses a list",
        "write me a bash script to back up the NAS",
        "generate a regex for UK postcodes",
        "give me some yaml for a motion automation",
        "what does this do?\n```\nprint(1)\n```",
    ],
)
def test_requests_for_code(text: str) -> None:
    assert pick_task(text) == "code"


@pytest.mark.parametrize(
    "text",
    [
        "turn on the lights",
        "what's the temperature in the nursery",
        "lock the front door and close the blinds",
        "write me a poem about the sea",
        "is the front door locked",
        "set a timer for ten minutes",
        "",
    ],
)
def test_device_commands_and_everything_else_stay_intent(text: str) -> None:
    assert pick_task(text) == "intent"


@pytest.mark.parametrize(
    "text",
    [
        "that's not what I asked",
        "thanks, perfect",
        "wrong light!",
        "you misheard me again",
        "great job",
        "no, that's wrong",
    ],
)
def test_feedback_to_the_assistant_goes_to_sentiment(text: str) -> None:
    assert pick_task(text) == "sentiment"


@pytest.mark.parametrize(
    "text", ["great, turn on the lights", "thanks, now lock the door", "perfect, what time is it"]
)
def test_a_command_after_a_thank_you_is_still_a_command(text: str) -> None:
    assert pick_task(text) == "intent"


@pytest.mark.parametrize(
    ("text", "task", "given"),
    [
        ("summarize: the meeting ran long", "summarize", "the meeting ran long"),
        ("Summarise this article for me: Rain is due.", "summarize", "Rain is due."),
        ("tl;dr the release notes are out", "summarize", "the release notes are out"),
        ("what's the sentiment of this review: great kettle", "sentiment", "great kettle"),
        ('sentiment: "I waited an hour"', "sentiment", "I waited an hour"),
        ("that's not what I asked", "sentiment", "that's not what I asked"),
        ("summarize", "summarize", "summarize"),
    ],
)
def test_the_service_gets_the_text_without_the_words_that_asked(
    text: str, task: Task, given: str
) -> None:
    assert task_text(text, task) == given
