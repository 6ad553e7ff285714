"""The learning itself (recipe 4): kept apart from `learn`, whose arguments every
`slm-mesh` start reads.

`slm-mesh factory learn`: the intent head learns what the fallback had to answer.

Reads the router's unanswered log and a person's corrections, keeps what the SLM can be
taught (`learn_core.py`), writes it where the head's training reads it
(`<cache_dir>/learned/intent.yaml`), retrains the heads (so the next start is instant) and
checks that the SLM now answers each learned sentence as it was answered. No PyTorch: the
head is the services' own.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from slm_mesh.factory.errors import FactoryError
from slm_mesh.factory.learn_core import (
    Skipped,
    answerable,
    from_log,
    merged,
    parse_corrections,
)
from slm_mesh.services.contracts.intent import IntentRequest
from slm_mesh.services.home.files import load_settings_home
from slm_mesh.services.intent.learned import (
    LearnedSentence,
    learned_path,
    read_learned,
    write_learned,
)
from slm_mesh.services.intent.recognizer import IntentRecognizer
from slm_mesh.services.intent.slots import OUT_OF_SCOPE
from slm_mesh.services.intent.training import trainable_intents
from slm_mesh.services.router.unanswered import UnansweredLog, unanswered_log
from slm_mesh.services.settings import Settings


def learn(args: argparse.Namespace, settings: Settings) -> int:
    home = load_settings_home(settings)
    intents = trainable_intents(home.language)
    corrections = _corrections(args.corrections, intents)
    log = _log(args.unanswered_log, settings)
    path = learned_path(settings.cache_dir)
    before = read_learned(path)
    logged, skipped = from_log(log.entries()) if log.path.exists() else ([], [])
    if log.path.exists():
        damaged = f" ({_count(log.damaged_lines, 'damaged line')} skipped)"
        records = _count(len(logged) + len(skipped), "record")
        print(f"read {records} from {log.path}{damaged if log.damaged_lines else ''}")
    else:
        print(f"no unanswered log at {log.path} yet: the router keeps one when it is used")
    if not (logged or corrections or before):
        _report_skipped(skipped)
        print("nothing to learn: no answer the fallback checked, and no corrections")
        return 0
    learned, unanswerable = answerable(merged(before, logged, corrections), home, intents=intents)
    _report(learned, before)
    _report_skipped([*skipped, *unanswerable])
    if args.dry_run:
        print("dry run: nothing written, nothing trained")
        return 0
    write_learned(path, learned)
    print(f"wrote {path}")
    _retrain_and_check(settings, learned)
    return 0


def _corrections(path: Path | None, intents: frozenset[str]) -> list[LearnedSentence]:
    if path is None:
        return []
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise FactoryError(f"cannot read the corrections file {path}: {err}") from None
    found = parse_corrections(text, where=str(path), intents=intents)
    print(f"read {_count(len(found), 'correction')} from {path}")
    return found


def _log(path: Path | None, settings: Settings) -> UnansweredLog:
    if path is None:
        return unanswered_log(settings)
    if not path.exists():
        raise FactoryError(
            f"no unanswered log at {path}; leave --unanswered-log out for the router's own"
        )
    return UnansweredLog(path=path)


def _report(learned: Sequence[LearnedSentence], before: Sequence[LearnedSentence]) -> None:
    new = {s.text for s in learned} - {s.text for s in before}
    print(f"learned {_count(len(learned), 'sentence')} ({len(new)} new):")
    for (intent, source), count in sorted(Counter((s.intent, s.source) for s in learned).items()):
        print(f"  {count:4}  {intent} (from the {source})")


def _report_skipped(skipped: Sequence[Skipped]) -> None:
    if skipped:
        print(f"skipped {len(skipped)}:")
    for reason, texts in _by_reason(skipped).items():
        examples = ", ".join(repr(t) for t in texts[:3]) + (", ..." if len(texts) > 3 else "")
        print(f"  {len(texts):4}  {reason}: {examples}")


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _by_reason(skipped: Sequence[Skipped]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in skipped:
        found.setdefault(item.reason, []).append(item.text)
    return found


def _retrain_and_check(settings: Settings, learned: Sequence[LearnedSentence]) -> None:
    """Train (and cache) the heads the services will load, then ask them each sentence."""
    from slm_mesh.services.intent.service import build_recognizer  # loads the model

    recognizer, _ = build_recognizer(settings)
    wrong = [s.text for s in learned if not _answers_as_learned(recognizer, s)]
    print(f"the SLM now answers {len(learned) - len(wrong)} of {len(learned)} as learned")
    for text in wrong:
        print(f"  not yet: {text!r}")


def _answers_as_learned(recognizer: IntentRecognizer, sentence: LearnedSentence) -> bool:
    result = recognizer.recognize(IntentRequest(sentence.text, area=sentence.area))
    if sentence.intent == OUT_OF_SCOPE:
        return result.intent is None
    return result.intent == sentence.intent
