"""The sentiment service, described for the kit: a head on the shared sentence encoder by
default, or any Hugging Face sequence-classification model exported to ONNX
(`SLM_MESH_SENTIMENT_MODEL=path:/models/distilbert-sst2`).

Concurrent calls share micro-batches: one encoder call for all the texts waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Any

from slm_mesh.services.contracts.info import ModelInfo, ServiceInfo
from slm_mesh.services.contracts.sentiment import (
    CONTRACT,
    MAX_TEXT_CHARS,
    SentimentRequest,
    SentimentResult,
)
from slm_mesh.services.contracts.text import check_text
from slm_mesh.services.kit.batched import BatchedCore
from slm_mesh.services.kit.service import Service, Started
from slm_mesh.services.kit.shared import Shared, encoder_info
from slm_mesh.services.runtime.classifier import SequenceClassifier
from slm_mesh.services.runtime.manifest import read_manifest
from slm_mesh.services.runtime.model_store import file_sha256
from slm_mesh.services.runtime.plugins import PATH_PREFIX, factory_plugins
from slm_mesh.services.runtime.supervise import supervised
from slm_mesh.services.sentiment.classifier import SentimentClassifier
from slm_mesh.services.sentiment.head import SentimentHead, default_head_path
from slm_mesh.services.sentiment.labels import LABELS
from slm_mesh.services.settings import Settings

Classify = Callable[[Sequence[str]], list[SentimentResult]]


def _validate(request: SentimentRequest) -> None:
    check_text(request.text, max_chars=MAX_TEXT_CHARS)


def from_export(folder: Path, *, cache_dir: Path) -> tuple[Classify, ModelInfo]:
    """A user's own sequence-classification export, its labels as the model names them."""
    model = SequenceClassifier.from_folder(folder, cache_dir=cache_dir)
    labels = model.labels

    def classify(texts: Sequence[str]) -> list[SentimentResult]:
        rows = model.classify(texts)
        return [
            SentimentResult(
                text=text,
                label=labels[int(row.argmax())],
                scores={label: float(p) for label, p in zip(labels, row, strict=True)},
            )
            for text, row in zip(texts, rows, strict=True)
        ]

    manifest = read_manifest(folder) if folder.is_dir() else None
    if manifest is not None:
        manifest.verify(folder)
    info = ModelInfo(
        name=manifest.name if manifest else f"{PATH_PREFIX}{folder}",
        task="classifier",
        sha256=file_sha256(model.model_path),
        precision=manifest.precision if manifest else "as exported",
        attribution=f"user-supplied model at {folder}",
        licence=manifest.licence if manifest else "unknown",
        labels=labels,
    )
    return classify, info


def classifier_export(settings: Settings) -> Path | None:
    """The classifier export to serve, if any: the sentiment model setting's `path:DIR`, or a
    `--plugin` that is a classifier's folder (`path:DIR`, or one the factory made, by name)."""
    choice = settings.sentiment.model
    if choice.startswith(PATH_PREFIX):
        return Path(choice.removeprefix(PATH_PREFIX))
    plugin = settings.plugin
    if plugin.startswith(PATH_PREFIX):
        folder: Path | None = Path(plugin.removeprefix(PATH_PREFIX))
    else:
        folder = factory_plugins(settings.cache_dir).get(plugin)
    if folder is None or not folder.is_dir():
        return None
    manifest = read_manifest(folder)
    return folder if manifest is not None and manifest.task == "classifier" else None


@asynccontextmanager
async def start(settings: Settings, shared: Shared) -> AsyncIterator[Started[Any, Any]]:
    choice = settings.sentiment.model
    export = classifier_export(settings)
    if export is not None:
        classify, model = await asyncio.to_thread(from_export, export, cache_dir=settings.cache_dir)
    else:
        embedder = await shared.encoder(settings.plugin)
        head_path = Path(choice) if choice else default_head_path()
        head = await asyncio.to_thread(SentimentHead.load, head_path)
        classify = SentimentClassifier(embed=embedder.embed, head=head).classify
        model = replace(
            encoder_info(embedder, task="classifier: a head on the shared encoder"),
            name=f"{embedder.plugin.name} + sentiment head",
            sha256=file_sha256(head_path),
            labels=LABELS,
            attribution=(
                "head trained on the sentence polarity dataset v1.0 (Pang and Lee, 2005) and "
                f"this project's home feedback sentences; encoder: {embedder.plugin.attribution}"
            ),
        )
    info = ServiceInfo(name="sentiment", version=metadata.version("slm-mesh"), models=(model,))
    core: BatchedCore[SentimentRequest, SentimentResult] = BatchedCore(
        process=lambda requests: classify([r.text for r in requests]),
        validate=_validate,
        max_batch_size=settings.batch.max_size,
        max_wait_ms=settings.batch.max_wait_ms,
    )
    async with core, asyncio.TaskGroup() as group:
        watching = group.create_task(supervised(core.watch(), "sentiment: batcher"))
        try:
            yield Started(core=core, info=info)
        finally:
            watching.cancel()


SERVICE: Service[SentimentRequest, SentimentResult] = Service(
    name="sentiment",
    summary="what people say to and about their home, scored positive or negative",
    contract=CONTRACT,
    start=start,
)
