"""A one-off long step shows its progress to a person at a terminal, and nothing elsewhere."""

from __future__ import annotations

import io

import pytest

from slm_mesh.services.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_at_a_terminal_the_line_is_redrawn_then_says_how_long_it_took() -> None:
    stream = Terminal()
    with Progress("training", total=4, stream=stream) as bar:
        bar.advance(2)

    shown = stream.getvalue()
    assert "\rtraining: 50%" in shown
    assert shown.endswith("\n") and "training: done in" in shown


def test_a_failed_step_says_so() -> None:
    stream = Terminal()
    with pytest.raises(RuntimeError), Progress("converting", stream=stream):
        raise RuntimeError("boom")

    assert "converting: failed in" in stream.getvalue()


def test_in_a_pipe_or_a_container_nothing_is_written() -> None:
    stream = io.StringIO()
    with Progress("training", total=2, stream=stream) as bar:
        bar.advance()

    assert stream.getvalue() == ""
