"""`slm-mesh ask`: JSON lines in, one answer or one error per line out."""

import asyncio
import json

import pytest

from slm_mesh.services.errors import UnreadablePayload
from slm_mesh.services.kit.ask import ask_lines, request_body
from slm_mesh.services.settings import Settings
from slm_mesh.services.summarizer.service import SERVICE as SUMMARIZER


def test_a_plain_line_is_a_text_and_an_object_line_is_the_request() -> None:
    assert request_body("lights off", max_bytes=100) == {"text": "lights off"}
    assert request_body('{"text": "a", "max_sentences": 1}', max_bytes=100) == {
        "text": "a",
        "max_sentences": 1,
    }


def test_an_object_line_over_the_services_limit_is_refused_by_its_size() -> None:
    with pytest.raises(UnreadablePayload, match="over the 100 byte limit"):
        request_body(json.dumps({"text": "x" * 200}), max_bytes=100)


def _article(sentences: int) -> str:
    return " ".join(
        f"The boiler in flat {n} was serviced on day {n} and now runs quietly."
        for n in range(sentences)
    )


@pytest.mark.slow
def test_ask_summarize_takes_an_article_longer_than_an_mqtt_event(settings: Settings) -> None:
    long_article = _article(1_100)
    too_long = _article(1_600)
    assert 64 * 1024 < len(long_article) <= 100_000 < len(too_long)
    lines = [
        json.dumps({"text": long_article, "max_sentences": 2}),
        json.dumps({"text": too_long, "max_sentences": 2}),
    ]
    out: list[str] = []

    refused = asyncio.run(
        ask_lines(SUMMARIZER, settings, lines, target=None, mqtt=False, write=out.append)
    )

    first, second = (json.loads(line) for line in out)
    assert 1 <= len(first["sentences"]) <= 2
    for sentence in first["sentences"]:
        assert long_article[sentence["start"] : sentence["end"]] == sentence["text"]
    assert "100000" in second["error"].replace(",", "")
    assert refused == 1
