"""Duplicates dropped, reordering taken, restarts told from replays; presence (pure)."""

from __future__ import annotations

from slm_mesh.firmware_bridge.presence import Presence
from slm_mesh.firmware_bridge.sequence import SequenceTracker

GAP = 30.0


def outcomes(
    tracker: SequenceTracker, frames: list[tuple[int, int, float]], device: str = "d"
) -> list[str]:
    """(boot_id, seq, now) each, in order."""
    return [
        tracker.check(device, boot_id=boot, seq=seq, now=now, gap_s=GAP).outcome
        for boot, seq, now in frames
    ]


def test_new_frames_are_taken_and_repeats_dropped() -> None:
    got = outcomes(SequenceTracker(), [(5, 0, 0), (5, 1, 0), (5, 1, 0), (5, 0, 0), (5, 2, 0)])
    assert got == ["first", "next", "duplicate", "duplicate", "next"]


def test_reordered_frames_within_the_window_are_taken_once() -> None:
    got = outcomes(SequenceTracker(), [(5, 10, 0), (5, 12, 0), (5, 11, 0), (5, 11, 0), (5, 9, 0)])
    assert got == ["first", "next", "late", "duplicate", "late"]


def test_a_frame_far_behind_the_window_is_stale() -> None:
    tracker = SequenceTracker(window=8)
    assert outcomes(tracker, [(5, 100, 0), (5, 50, 1)]) == ["first", "stale"]


def test_a_jump_past_the_window_forgets_the_old_window() -> None:
    tracker = SequenceTracker(window=8)
    got = outcomes(tracker, [(5, 1, 0), (5, 100, 0), (5, 99, 0), (5, 100, 0)])
    assert got == ["first", "next", "late", "duplicate"]


def test_a_new_boot_id_is_a_restart_and_an_old_one_a_replay() -> None:
    tracker = SequenceTracker()
    got = outcomes(tracker, [(5, 0, 0), (5, 1, 0), (9, 0, 0.5), (9, 1, 0.5), (5, 2, 1), (9, 1, 1)])
    assert got == ["first", "next", "restart", "next", "old_boot", "duplicate"]
    first = tracker.check("d", boot_id=5, seq=0, now=0, gap_s=GAP)
    assert first.session != tracker.check("e", boot_id=5, seq=0, now=0, gap_s=GAP).session


def test_a_device_without_boot_ids_restarts_after_a_heartbeat_gap() -> None:
    tracker = SequenceTracker()
    got = outcomes(tracker, [(0, 0, 0), (0, 1, 0), (0, 2, 5), (0, 0, 5 + GAP), (0, 1, 36)])
    assert got == ["first", "next", "next", "restart", "next"]


def test_without_a_gap_a_low_number_is_a_duplicate_or_a_replay() -> None:
    tracker = SequenceTracker(window=8)
    frames = [(0, n, 0.0) for n in range(20)] + [(0, 3, 1.0), (0, 19, GAP * 2)]
    got = outcomes(tracker, frames)
    assert got[-2:] == ["stale", "duplicate"]  # the last: the same number again, not lower


def test_the_restart_session_differs_so_ids_do_not_collide() -> None:
    tracker = SequenceTracker()
    before = tracker.check("d", boot_id=0, seq=1, now=0, gap_s=GAP)
    tracker.check("d", boot_id=0, seq=2, now=0, gap_s=GAP)
    after = tracker.check("d", boot_id=0, seq=1, now=GAP, gap_s=GAP)
    assert after.outcome == "restart" and after.session != before.session


def test_the_table_is_bounded_by_forgetting_the_least_recent() -> None:
    tracker = SequenceTracker(max_devices=3)
    for n in range(5):
        tracker.check(f"d{n}", boot_id=1, seq=0, now=0, gap_s=GAP)
    assert len(tracker) == 3
    assert tracker.check("d0", boot_id=1, seq=0, now=0, gap_s=GAP).outcome == "first"


# -- presence


def test_a_device_goes_online_when_heard_and_offline_after_three_intervals() -> None:
    presence = Presence(default_interval_s=10)
    assert presence.heard("d", now=0, link="serial:/dev/x")
    assert not presence.heard("d", now=1, link="serial:/dev/x")
    assert presence.timeout_s("d") == 30
    assert presence.gone_silent(now=30.5) == []
    assert presence.gone_silent(now=31) == ["d"]
    assert presence.gone_silent(now=32) == []
    assert presence.heard("d", now=40, link="serial:/dev/x")  # back again


def test_a_heartbeat_interval_sets_the_timeout() -> None:
    presence = Presence(default_interval_s=10)
    presence.heard("d", now=0, link="udp:1.2.3.4:5", interval_s=2)
    assert presence.timeout_s("d") == 6
    assert presence.gone_silent(now=5.9) == []
    assert presence.gone_silent(now=6.0) == ["d"]


def test_moving_to_another_link_is_announced() -> None:
    presence = Presence()
    presence.heard("d", now=0, link="udp:1.2.3.4:5")
    assert presence.heard("d", now=1, link="udp:1.2.3.9:5")
    assert presence.link("d") == "udp:1.2.3.9:5"


def test_online_statuses_are_refreshed_every_timeout() -> None:
    presence = Presence(default_interval_s=10)
    presence.heard("d", now=0, link="l")
    assert presence.due_again(now=0) == ["d"]
    presence.announced("d", now=0)
    assert presence.due_again(now=29) == []
    presence.heard("d", now=29, link="l")
    assert presence.due_again(now=30) == ["d"]
