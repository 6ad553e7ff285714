"""Training the intent head for one home, and caching it.

The training set is built from three sources, all expanded with the home's own names:
Home Assistant's sentence templates (what HA users already say), our natural phrasings
(`data/natural.yaml`: what templates miss), and out-of-scope requests
(`data/out_of_scope.yaml`). Sentences are embedded by the SLM and a small head is fitted;
the result is cached by a hash of everything that went in, so a restart loads it at once.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import structlog
import yaml

from slm_mesh.services.home.model import Area, Entity, Floor, Home
from slm_mesh.services.intent import lexical
from slm_mesh.services.intent.expand import expand, home_lists
from slm_mesh.services.intent.head import IntentHead, IntentHeads, train_head
from slm_mesh.services.intent.lexical import lexical_features
from slm_mesh.services.intent.slots import OUT_OF_SCOPE, Label
from slm_mesh.services.intent.templates import sample_training_sentences
from slm_mesh.services.progress import Progress

#: Bump when the training set, the head or the embeddings change, so old caches are not reused.
TRAINING_VERSION = 10
log = structlog.get_logger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]


#: What people wrap around a request when they speak to a device; added to some training
#: sentences (in scope and out of scope alike) so that the wrapping itself means nothing.
PREFIXES = ("hey", "ok", "okay so", "um", "right", "so", "listen", "hey there", "please",
            "excuse me", "quick one", "oh and")  # fmt: skip
SUFFIXES = ("please", "for me", "thanks", "now", "love", "mate", "if you can", "right now",
            "when you get a chance", "cheers", "would you", "ta")  # fmt: skip


def with_filler(text: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(PREFIXES)} {text}"
    return f"{text} {rng.choice(SUFFIXES)}"


@dataclass(frozen=True)
class TrainingConfig:
    per_intent: int = 220
    """Sentences sampled from HA's templates per intent."""
    per_natural_template: int = 10
    per_out_of_scope_template: int = 24
    filler_share: float = 0.15
    """Share of sentences that also appear wrapped in a filler word."""
    seed: int = 0


def _data_text(name: str) -> str:
    return resources.files("slm_mesh.services.intent").joinpath("data", name).read_text("utf-8")


@dataclass(frozen=True)
class TrainingSentence:
    text: str
    label: str
    group: str
    """Where it came from (its template), so calibration can hold whole templates out."""


def training_sentences(home: Home, config: TrainingConfig) -> list[TrainingSentence]:
    """The training set for `home`, deduplicated, deterministic under the seed."""
    rng = random.Random(config.seed)
    found: dict[str, TrainingSentence] = {}

    def add(text: str, label: str, group: str, *, replace: bool = False) -> None:
        if replace or text not in found:
            found[text] = TrainingSentence(text, label, group)

    for number, sample in enumerate(
        sample_training_sentences(
            home, language=home.language, max_per_intent=config.per_intent, seed=config.seed
        )
    ):
        add(
            sample.text.casefold().strip(), Label.of(sample.intent, sample.slots).key, f"ha{number}"
        )
    lists = home_lists(home)
    natural = yaml.safe_load(_data_text("natural.yaml"))["labels"]
    for key, templates in natural.items():
        for number, template in enumerate(templates):
            for text in expand(template, lists, count=config.per_natural_template, rng=rng):
                add(text, key, f"{key}#{number}", replace=True)
    out_of_scope = yaml.safe_load(_data_text("out_of_scope.yaml"))["templates"]
    for number, template in enumerate(out_of_scope):
        for text in expand(template, lists, count=config.per_out_of_scope_template, rng=rng):
            add(text, OUT_OF_SCOPE, f"oos#{number}")
    for sentence in list(found.values()):
        if rng.random() < config.filler_share:
            add(with_filler(sentence.text, rng), sentence.label, sentence.group)
    return list(found.values())


def cache_key(home: Home, model_sha256: str, config: TrainingConfig) -> str:
    """A hash of everything the trained head depends on."""
    digest = hashlib.sha256()
    named: tuple[Floor | Area | Entity, ...] = (*home.floors, *home.areas, *home.entities)
    for part in (
        json.dumps([asdict(x) for x in named], sort_keys=True),
        _data_text("natural.yaml"),
        _data_text("out_of_scope.yaml"),
        model_sha256,
        metadata.version("hassil"),
        metadata.version("home-assistant-intents"),
        json.dumps(asdict(config), sort_keys=True),
        f"{TRAINING_VERSION}:{lexical.DIMENSIONS}",
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def load_or_train(
    home: Home,
    *,
    embed: Embed,
    model_sha256: str,
    cache_dir: Path | None,
    config: TrainingConfig | None = None,
) -> IntentHeads:
    """The cached heads for this home, or freshly trained (and then cached) ones."""
    config = config or TrainingConfig()
    key = cache_key(home, model_sha256, config)
    paths = (
        (cache_dir / f"intent-head-{key}.npz", cache_dir / f"intent-words-{key}.npz")
        if cache_dir
        else None
    )
    if paths is not None and all(path.exists() for path in paths):
        log.info("intent heads loaded from cache", path=str(paths[0]))
        return IntentHeads(full=IntentHead.load(paths[0]), words=IntentHead.load(paths[1]))
    started = time.perf_counter()
    sentences = training_sentences(home, config)
    texts = [s.text for s in sentences]
    labels = [s.label for s in sentences]
    groups = [s.group for s in sentences]
    chunks = range(0, len(texts), 128)
    with Progress("training the intent heads for this home (once)", total=len(chunks) + 2) as bar:
        parts = []
        for start in chunks:
            parts.append(embed(texts[start : start + 128]))
            bar.advance()
        embeddings = np.concatenate(parts)
        words = lexical_features(texts)
        full = train_head(np.hstack([embeddings, words]), labels, groups=groups, seed=config.seed)
        bar.advance()
        word_head = train_head(words, labels, groups=groups, hidden=64, epochs=15, seed=config.seed)
        bar.advance()
    heads = IntentHeads(full=full, words=word_head)
    log.info(
        "intent heads trained",
        sentences=len(sentences),
        labels=len(heads.full.labels),
        seconds=round(time.perf_counter() - started, 1),
        temperature=round(heads.full.temperature, 2),
    )
    if paths is not None:
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        for head, path in zip((heads.full, heads.words), paths, strict=True):
            partial = path.with_suffix(".tmp.npz")
            head.save(partial)
            partial.replace(path)
    return heads
