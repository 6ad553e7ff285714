"""The log of requests nobody could answer: JSON lines, rotated at a size limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slm_mesh.services.router.unanswered import UnansweredLog


def _sizes(log: UnansweredLog) -> list[int]:
    older = log.path.with_name(log.path.name + ".1")
    return [path.stat().st_size for path in (older, log.path) if path.exists()]


def test_each_record_is_one_json_line_with_its_time(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "logs" / "unanswered.jsonl")
    log.record({"text": "what is the capital of france", "fallback": None})
    log.record({"text": "sing me a song", "context": {"area": "Lounge"}})
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["text"] == "what is the capital of france"
    assert first["fallback"] is None
    assert isinstance(first["time"], float)
    assert json.loads(lines[1])["context"] == {"area": "Lounge"}


def test_text_is_kept_as_written(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    log.record({"text": "allume la lumière ☀"})
    assert "lumière ☀" in log.path.read_text(encoding="utf-8")
    assert log.entries()[0]["text"] == "allume la lumière ☀"


def test_an_empty_log_has_no_entries(tmp_path: Path) -> None:
    assert UnansweredLog(path=tmp_path / "unanswered.jsonl").entries() == []


def test_the_file_moves_to_dot_one_at_the_limit(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl", max_bytes=1024)
    for n in range(30):
        log.record({"n": n, "text": "x" * 60})
    older = tmp_path / "unanswered.jsonl.1"
    assert older.exists()
    assert all(size <= 1024 for size in _sizes(log))


def test_entries_are_oldest_first_across_both_files(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl", max_bytes=1024)
    for n in range(40):
        log.record({"n": n, "text": "x" * 60})
    numbers = [entry["n"] for entry in log.entries()]
    assert numbers[-1] == 39
    assert numbers == list(range(numbers[0], 40))
    assert numbers[0] > 0, "the oldest rotation was dropped"


@pytest.mark.parametrize(
    "text",
    ["x" * 120, "é" * 57, "灯" * 50, "灯" * 134],
    ids=["ascii", "two-byte", "three-byte", "three-byte-long"],
)
def test_the_log_never_holds_more_than_twice_the_limit(tmp_path: Path, text: str) -> None:
    """The limit is in bytes, also for text that takes more bytes than characters."""
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl", max_bytes=2048)
    for n in range(200):
        log.record({"n": n, "text": text})
        assert all(size <= 2048 for size in _sizes(log))
        assert sum(_sizes(log)) <= 2 * 2048


def test_a_tiny_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        UnansweredLog(path=tmp_path / "unanswered.jsonl", max_bytes=100)


def test_only_its_owner_may_read_the_log(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "private" / "unanswered.jsonl")
    log.record({"text": "where did I leave my keys"})
    assert log.path.stat().st_mode & 0o777 == 0o600
    assert log.path.parent.stat().st_mode & 0o777 == 0o700


def test_a_record_cut_short_costs_only_itself(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    log.record({"n": 1})
    with log.path.open("a", encoding="utf-8") as file:
        file.write('{"n": 2, "text": "cut sh')  # a crash in the middle of a write
    log.record({"n": 3})
    assert [entry["n"] for entry in log.entries()] == [1, 3]
    assert log.damaged_lines == 1


@pytest.mark.parametrize("line", [b"\xff\xfe", b"[1, 2]", b"[" * 3000, b"{nope"])
def test_a_damaged_line_is_skipped_and_counted(tmp_path: Path, line: bytes) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    log.record({"n": 1})
    with log.path.open("ab") as file:
        file.write(line + b"\n")
    log.record({"n": 2})
    assert [entry["n"] for entry in log.entries()] == [1, 2]
    assert log.damaged_lines == 1


def test_passwords_in_urls_are_not_kept(tmp_path: Path) -> None:
    log = UnansweredLog(path=tmp_path / "unanswered.jsonl")
    log.record({"fallback": {"reason": "cannot reach http://bob:hunter2@llm.lan/v1: timeout"}})
    assert "hunter2" not in log.path.read_text(encoding="utf-8")
    assert log.entries()[0]["fallback"]["reason"] == (
        "cannot reach http://bob:***@llm.lan/v1: timeout"
    )
