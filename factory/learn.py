"""Recipe 4, `slm-mesh factory learn`: the intent head learns what the fallback had to
answer. The options are here; the work (`learn_run.py`) is imported only when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from slm_mesh.services.settings import Settings

OUT_OF_SCOPE_WORD = "out_of_scope"
"""What a corrections line says of a sentence the mesh must never act on."""

EPILOG = f"""\
corrections file (YAML), one line per sentence; they win over the fallback's answers:
  "give the desk lamp a rest": {{intent: HassTurnOff, slots: {{name: Desk Lamp}}}}
  "it's like a cave in here": {{intent: HassTurnOn, slots: {{domain: light}}, area: Lounge}}
  "tell me about the moon": {OUT_OF_SCOPE_WORD}      (never act on it; taught as out of scope)

exit codes: 0 learned, or nothing to learn yet (it says so); 2 bad input (a missing or
damaged corrections file, an intent or slot the SLM cannot learn, a missing
--unanswered-log).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--unanswered-log",  # not --log: `slm-mesh --log-level` would make it ambiguous
        type=Path,
        metavar="PATH",
        help="the router's unanswered log (default: the settings' unanswered.log, "
        "else <cache_dir>/unanswered/unanswered.jsonl)",
    )
    parser.add_argument(
        "--corrections", type=Path, metavar="FILE.yaml", help="a person's corrections (below)"
    )
    parser.add_argument("--home", type=Path, help="home file (default: the settings' home)")
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would be learned; write and train nothing"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from slm_mesh.factory.learn_run import learn

    return learn(args, settings)
