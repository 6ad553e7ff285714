"""`slm-mesh factory learn` without the model: which records and corrections become
learned sentences, and what bad input gets (milliseconds; no training)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.learn_core import (
    DAMAGED,
    IN_WORDS,
    NO_HELP,
    NOT_ASKED,
    Skipped,
    answerable,
    from_log,
    merged,
    parse_corrections,
)
from slm_mesh.services.cli import main
from slm_mesh.services.contracts.intent import SlotValue
from slm_mesh.services.home.model import parse_home
from slm_mesh.services.intent.learned import LearnedSentence, learned_path
from slm_mesh.services.router.unanswered import UnansweredLog

HOME = parse_home("""
areas:
  - {name: Study, id: study}
  - {name: Lounge, id: lounge, aliases: [living room]}
entities:
  - {name: Desk Lamp, id: light.desk_lamp, area: study}
  - {name: Floor Lamp, id: light.floor_lamp, area: lounge}
  - {name: Kettle, id: switch.kettle, area: lounge}
""")
INTENTS = frozenset({"HassTurnOn", "HassTurnOff", "HassLightSet"})
REST = "give the desk lamp a rest"


def intent_record(text: str, intent: str, slots: dict[str, Any], **more: Any) -> dict[str, Any]:
    """A record as the router writes it when the fallback's intent was checked."""
    result = {"text": text, "intent": intent, "slots": slots, "confidence": 0.0, "tier": "llm"}
    return {
        "text": text,
        "context": {"site": None, "device": None, "area": None},
        "tiers": {"local": {"intent": None}},
        "fallback": {"kind": "intent", "reason": "checked", "intent": result, "answer": None},
        **more,
    }


def other_record(text: str, kind: str | None) -> dict[str, Any]:
    fallback = None if kind is None else {"kind": kind, "intent": None, "answer": "Paris."}
    return {"text": text, "context": {}, "fallback": fallback}


def test_only_intents_the_fallback_checked_are_taken_and_the_rest_say_why() -> None:
    learned, skipped = from_log([
        intent_record("Give the  Desk Lamp a rest", "HassTurnOff", {"name": "Desk Lamp"}),
        other_record("what is the capital of france", "answer"),
        other_record("make me a cup of tea", "cannot_help"),
        other_record("the kettle deserves a rest", None),
        {"text": "lights on", "fallback": {"kind": "intent", "intent": {"slots": []}}},
        {"fallback": None},
    ])  # fmt: skip
    assert learned == [LearnedSentence(REST, "HassTurnOff", {"name": "Desk Lamp"})]
    assert skipped == [
        Skipped("what is the capital of france", IN_WORDS),
        Skipped("make me a cup of tea", NO_HELP),
        Skipped("the kettle deserves a rest", NOT_ASKED),
        Skipped("lights on", DAMAGED),
        Skipped("", DAMAGED),
    ]


def test_the_newest_answer_for_a_sentence_wins_and_keeps_its_area() -> None:
    learned, _ = from_log([
        intent_record(REST, "HassTurnOn", {"name": "Desk Lamp"}),
        intent_record(REST, "HassTurnOff", {"name": "Desk Lamp"}, area="Study"),
        intent_record("lights on in here", "HassTurnOn", {"domain": "light"},
                      context={"area": "Lounge"}),
    ])  # fmt: skip
    assert [(s.intent, s.area) for s in learned] == [
        ("HassTurnOff", "Study"),
        ("HassTurnOn", "Lounge"),
    ]


def test_corrections_read_in_both_forms_and_out_of_scope() -> None:
    corrections = parse_corrections(
        f'"{REST}": {{intent: HassTurnOff, slots: {{name: Desk Lamp}}, area: Study}}\n'
        '"LIGHTS please": HassTurnOn\n'
        '"tell me about the moon": out_of_scope\n',
        where="fix.yaml",
        intents=INTENTS,
    )
    assert corrections == [
        LearnedSentence(REST, "HassTurnOff", {"name": "Desk Lamp"}, "Study", "correction"),
        LearnedSentence("lights please", "HassTurnOn", source="correction"),
        LearnedSentence("tell me about the moon", "OutOfScope", source="correction"),
    ]
    assert parse_corrections("# nothing yet\n", where="fix.yaml", intents=INTENTS) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"a": HassTurnOn\n"b": HassTurnOf\n', "fix.yaml line 2: 'b': 'HassTurnOf' is not an "
         "intent the SLM can learn; did you mean HassTurnOff or HassTurnOn?"),
        ('"a": {intent: HassTurnOn, slots: {nme: Kettle}}\n', "line 1: 'a': unknown slot 'nme'"),
        ('"a": {intent: HassLightSet, slots: {brightness: [50]}}\n', "must be text or a number"),
        ('"a": {intent: HassTurnOn, room: Study}\n', "unknown keys ['room']"),
        ('"a": {slots: {}}\n', "'a' needs an intent (or out_of_scope)"),
        ("- a list\n", "fix.yaml line 1: expected `sentence: intent` lines"),
        ('"a": [unclosed\n', "fix.yaml is not YAML"),
    ],
)  # fmt: skip
def test_a_bad_correction_is_refused_naming_its_line(text: str, message: str) -> None:
    with pytest.raises(FactoryError) as caught:
        parse_corrections(text, where="fix.yaml", intents=INTENTS)
    assert message in str(caught.value)


def test_corrections_win_over_the_fallback_and_the_log_over_what_was_learned() -> None:
    before = [LearnedSentence(REST, "HassTurnOn", {"name": "Desk Lamp"}),
              LearnedSentence("kettle on", "HassTurnOn", {"name": "Kettle"})]  # fmt: skip
    logged = [LearnedSentence(REST, "HassTurnOff", {"name": "Desk Lamp"}),
              LearnedSentence("moon facts", "HassTurnOn", {"name": "Kettle"})]  # fmt: skip
    fixed = [LearnedSentence("moon facts", "OutOfScope", source="correction")]
    assert [(s.text, s.intent) for s in merged(before, logged, fixed)] == [
        ("kettle on", "HassTurnOn"),
        (REST, "HassTurnOff"),
        ("moon facts", "OutOfScope"),
    ]


def test_only_what_the_slm_will_answer_the_same_way_is_kept() -> None:
    lights_on: dict[str, SlotValue] = {"domain": "light", "area": "Lounge"}
    kept, skipped = answerable(
        [
            LearnedSentence(REST, "HassTurnOff", {"name": "desk lamp", "domain": "light"}),
            LearnedSentence("lights on in here", "HassTurnOn", lights_on, area="living room"),
            LearnedSentence("it is dark in here", "HassTurnOn", {**lights_on, "area": "Study"}),
            LearnedSentence("flip the kettle", "HassToggle", {"name": "Kettle"}),
            LearnedSentence("brighter please", "HassLightSet", {"brightness": 80}),
            LearnedSentence("moon facts", "OutOfScope", source="correction"),
        ],
        HOME,
        intents=INTENTS,
    )
    assert [(s.text, s.area) for s in kept] == [
        (REST, None),
        ("lights on in here", "Lounge"),
        ("moon facts", None),
    ]
    assert [(s.text, s.reason) for s in skipped] == [
        ("it is dark in here", "its words give area=nothing, not Study: the fallback keeps "
                               "answering it"),
        ("flip the kettle", "HassToggle is not an intent the SLM learns"),
        ("brighter please", "its words do not give HassLightSet's slots: the fallback keeps "
                            "answering it"),
    ]  # fmt: skip


# The command, on the demo home, without training (dry runs and refusals).


@pytest.fixture(autouse=True)
def leave_logging_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """`main` points the process's logs at stderr, which pytest closes after the test."""
    monkeypatch.setattr("slm_mesh.services.cli.configure_logging", lambda **_: None)


def learn(tmp_path: Path, *options: str) -> int:
    return main(["factory", "learn", "--cache-dir", str(tmp_path / "cache"), *options])


def write_log(path: Path, records: list[dict[str, Any]]) -> Path:
    log = UnansweredLog(path=path)
    for record in records:
        log.record(record)
    return path


def test_with_no_log_yet_there_is_nothing_to_learn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert learn(tmp_path) == 0
    out = capsys.readouterr().out
    assert "no unanswered log at" in out and "nothing to learn" in out
    assert not learned_path(tmp_path / "cache").exists()


def test_a_log_of_questions_only_is_nothing_to_learn_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "unanswered.jsonl", [other_record("tell me a joke", "answer")])
    assert learn(tmp_path, "--unanswered-log", str(log)) == 0
    out = capsys.readouterr().out
    assert f"{IN_WORDS}: 'tell me a joke'" in out and "nothing to learn" in out
    assert not learned_path(tmp_path / "cache").exists()


def test_a_dry_run_says_what_it_would_learn_and_why_it_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path / "unanswered.jsonl", [
        intent_record(REST, "HassTurnOff", {"name": "Desk Lamp"}, area="Study"),
        other_record("what is the capital of france", "answer"),
    ])  # fmt: skip
    with log.open("a") as file:
        file.write('{"cut short\n')
    assert learn(tmp_path, "--unanswered-log", str(log), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "read 2 records" in out and "(1 damaged line skipped)" in out
    assert "learned 1 sentence (1 new):\n     1  HassTurnOff (from the fallback)" in out
    assert f"{IN_WORDS}: 'what is the capital of france'" in out
    assert "dry run: nothing written" in out
    assert not learned_path(tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("corrections", "message"),
    [
        (None, "cannot read the corrections file"),
        (b"\xff\xfe", "cannot read the corrections file"),
        (b'"lights on": {intent: [HassTurnOn\n', "is not YAML"),
        (b'"lights on": HassTurnOn\n"fly me": HassFly\n', "line 2: 'fly me': 'HassFly' is not"),
    ],
)
def test_a_bad_corrections_file_ends_with_exit_code_2_and_says_why(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    corrections: bytes | None,
    message: str,
) -> None:
    path = tmp_path / "fix.yaml"
    if corrections is not None:
        path.write_bytes(corrections)
    assert learn(tmp_path, "--corrections", str(path), "--dry-run") == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_a_missing_log_named_on_the_command_line_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert learn(tmp_path, "--unanswered-log", str(tmp_path / "nope.jsonl")) == 2
    assert "no unanswered log at" in capsys.readouterr().err


def test_a_damaged_learned_file_is_refused_with_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = learned_path(tmp_path / "cache")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"sentences": [{"text": "x"}]}))
    assert learn(tmp_path, "--dry-run") == 2
    err = capsys.readouterr().err
    assert "learned sentence 1 is damaged" in err and "factory learn` again" in err


def test_a_missing_home_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert learn(tmp_path, "--home", str(tmp_path / "no-home.yaml"), "--dry-run") == 2
    assert "no-home.yaml" in capsys.readouterr().err
