"""ROUGE of the summarizer and its baselines on articles with reference extracts.

    python -m slm_mesh.services.summarizer.evaluate --cases DIR [--encoder] [--json]

DIR holds pairs of plain-text files with the same relative path: `articles/…` (or
`News Articles/…`, the BBC News Summary layout) and `summaries/…` (or `Summaries/…`). Each
method gets the reference's sentence budget (a reference has one sentence a line, or is
split into sentences, also where they were joined without a space: "up 5%.Sales fell").
Scores are mean ROUGE-1 and ROUGE-2 F1 over the cases, without and with Porter stemming.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from slm_mesh.services.summarizer import baselines
from slm_mesh.services.summarizer.document import Document
from slm_mesh.services.summarizer.extractive import Embed, ExtractiveSummarizer
from slm_mesh.services.summarizer.rouge import rouge_n
from slm_mesh.services.summarizer.sentences import split_sentences

_ARTICLE_DIRS = ("articles", "News Articles")
_SUMMARY_DIRS = ("summaries", "Summaries")
_JOINED = re.compile(r"(?<=[a-z0-9%)][.!?])(?=[A-Z])")


@dataclass(frozen=True)
class Case:
    name: str
    article: str
    reference: str
    budget: int
    """Sentences in the reference."""


@dataclass(frozen=True)
class Score:
    method: str
    rouge1: float
    rouge2: float
    rouge1_stemmed: float
    rouge2_stemmed: float
    milliseconds: float
    """Mean time per article, encoder included."""


Method = Callable[[Case], str]


def load_cases(folder: Path) -> list[Case]:
    """The article/summary pairs under `folder`, sorted by path."""
    articles = _first_dir(folder, _ARTICLE_DIRS)
    summaries = _first_dir(folder, _SUMMARY_DIRS)
    cases = []
    for path in sorted(articles.rglob("*.txt")):
        relative = path.relative_to(articles)
        summary = summaries / relative
        if not summary.is_file():
            continue
        reference = summary.read_text(encoding="utf-8", errors="replace").strip()
        article = path.read_text(encoding="utf-8", errors="replace")
        budget = reference_sentences(reference)
        if article.strip() and budget:
            cases.append(Case(str(relative), article, reference, budget))
    if not cases:
        raise SystemExit(f"no article with a summary of the same name under {folder}")
    return cases


def reference_sentences(reference: str) -> int:
    """How many sentences a reference extract has."""
    lines = [line for line in reference.splitlines() if line.strip()]
    if len(lines) > 1:
        return len(lines)
    return len(split_sentences(_JOINED.sub(" ", reference)))


def methods(embed: Embed | None) -> dict[str, Method]:
    """The summarizer (with the encoder when given) and the baselines, by name."""
    plain = ExtractiveSummarizer()
    chosen: dict[str, Method] = {
        "lead": _baseline(baselines.lead),
        "word frequency": _baseline(baselines.word_frequency),
    }
    if embed is not None:
        chosen["centroid (MiniLM)"] = _baseline(lambda d, k: baselines.centroid(d, k, embed))
    chosen["summarizer"] = lambda case: (
        plain.summarize(case.article, max_sentences=case.budget).text
    )
    if embed is not None:
        encoded = ExtractiveSummarizer(embed=embed)
        chosen["summarizer + MiniLM"] = lambda case: (
            encoded.summarize(case.article, max_sentences=case.budget).text
        )
    return chosen


def evaluate(cases: Sequence[Case], method: Method, name: str) -> Score:
    totals = [0.0, 0.0, 0.0, 0.0]
    elapsed = 0.0
    for case in cases:
        began = time.perf_counter()
        summary = method(case)
        elapsed += time.perf_counter() - began
        for k, (n, stem) in enumerate(((1, False), (2, False), (1, True), (2, True))):
            totals[k] += rouge_n(summary, case.reference, n, stem=stem).f1
    r1, r2, r1s, r2s = (total / len(cases) for total in totals)
    return Score(name, r1, r2, r1s, r2s, 1000 * elapsed / len(cases))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, required=True, help="folder of articles/summaries")
    parser.add_argument("--encoder", action="store_true", help="also run the MiniLM methods")
    parser.add_argument("--cache-dir", type=Path, default=Path(".cache/summarizer"))
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    options = parser.parse_args(argv)
    cases = load_cases(options.cases)
    embed = _encoder(options.cache_dir) if options.encoder else None
    scores = [evaluate(cases, method, name) for name, method in methods(embed).items()]
    if options.json:
        print(json.dumps([score.__dict__ for score in scores], indent=2))
    else:
        print(report(scores, cases=len(cases)))
    return 0


def report(scores: Sequence[Score], *, cases: int) -> str:
    lines = [
        f"{cases} cases, at each reference's sentence budget (ROUGE F1; stemmed: Porter)",
        f"{'method':<22} {'R-1':>6} {'R-2':>6} {'R-1 st':>7} {'R-2 st':>7} {'ms/case':>8}",
    ]
    for s in scores:
        lines.append(
            f"{s.method:<22} {s.rouge1:6.3f} {s.rouge2:6.3f} {s.rouge1_stemmed:7.3f} "
            f"{s.rouge2_stemmed:7.3f} {s.milliseconds:8.1f}"
        )
    return "\n".join(lines)


def _baseline(choose: Callable[[Document, int], list[int]]) -> Method:
    def run(case: Case) -> str:
        document = Document.read(case.article)
        return document.summary(choose(document, case.budget)).text

    return run


def _first_dir(folder: Path, names: Sequence[str]) -> Path:
    for name in names:
        if (folder / name).is_dir():
            return folder / name
    raise SystemExit(f"{folder} has none of the folders {', '.join(names)}; see --help")


def _encoder(cache_dir: Path) -> Embed:
    from slm_mesh.plugins.minilm import PLUGIN
    from slm_mesh.services.runtime.onnx_session import Embedder

    cache_dir.mkdir(parents=True, exist_ok=True)
    return Embedder(plugin=PLUGIN, cache_dir=cache_dir).embed


if __name__ == "__main__":
    sys.exit(main())
