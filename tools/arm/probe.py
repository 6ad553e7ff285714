"""What the intent recognizer makes of a fixed set of sentences on this CPU, as one JSON
object on stdout. tests/test_arm.py runs it on x86 and on the emulated Raspberry Pis
(tools/arm/setup.sh) and compares:

    python tools/arm/probe.py --cache-dir DIR [--precision auto|int8|fp32] [--home FILE]

The object: the machine, the CPU's int8 dot-product instructions as `cpu_int8_support()`
reads them, the precision `auto` (or the one asked for) chose, the seconds the recognizer
took to build, and one answer per sentence (intent, slots, confidence, tier). It is the
line that starts with "probe: " (the log goes to stdout too).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any, Literal, cast

MARK = "probe: "
#: Each tier, and the slots the resolver fills: templates, natural phrasings the model
#: answers, a device's area as context, numbers and durations, and out-of-scope requests.
SENTENCES: tuple[tuple[str, str | None], ...] = (
    ("turn on the kitchen lights", None),
    ("it's pitch black in the study", None),
    ("set the desk lamp to 40 percent", None),
    ("lights off", "Lounge"),
    ("could you make it a bit brighter in here", "Kitchen"),
    ("boil the kettle", None),
    ("drop the blinds, the sun's in my eyes", None),
    ("is the front door locked", None),
    ("how warm is it in the nursery", None),
    ("set a timer for ten minutes", None),
    ("knock two minutes off the timer", None),
    ("get the hoover going", None),
    ("what's a good banana bread recipe", None),
    ("who won the football last night", None),
)


def probe(cache_dir: Path, precision: str, home_file: Path | None) -> dict[str, Any]:
    from slm_mesh.services.contracts.intent import IntentRequest
    from slm_mesh.services.intent.service import build_recognizer
    from slm_mesh.services.runtime.onnx_session import cpu_int8_support
    from slm_mesh.services.settings import Settings

    settings = Settings(
        cache_dir=cache_dir,
        precision=cast(Literal["auto", "int8", "fp32"], precision),
        home=home_file,
    )
    started = time.perf_counter()
    recognizer, embedder = build_recognizer(settings)
    built = time.perf_counter() - started
    started = time.perf_counter()
    results = recognizer.recognize_batch([IntentRequest(t, area=a) for t, a in SENTENCES])
    return {
        "machine": platform.machine(),
        "int8_dot_product": cpu_int8_support(),
        "precision": embedder.precision,
        "model": embedder.model_path.name,
        "build_s": round(built, 2),
        "recognize_s": round(time.perf_counter() - started, 2),
        "answers": [
            {**result.as_json(), "area": area}
            for result, (_, area) in zip(results, SENTENCES, strict=True)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--precision", default="auto", choices=("auto", "int8", "fp32"))
    parser.add_argument("--home", type=Path, help="home file; default: the demo home")
    args = parser.parse_args(argv)
    # The log goes to stdout too: the answer is the one line that starts with MARK.
    print(MARK + json.dumps(probe(args.cache_dir, args.precision, args.home)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
