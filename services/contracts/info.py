"""What every service says about itself (wyoming's Describe / Info): over gRPC as
`Describe`, over MQTT in its retained status message."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from slm_mesh.v1 import service_info_pb2


@dataclass(frozen=True)
class ModelInfo:
    name: str
    task: str
    """What the model does here: "encoder", "classifier", "generator", or a task name."""
    sha256: str
    """Of the model file as loaded; empty for a user's own export without a manifest."""
    precision: str
    """As chosen at start-up for this CPU, and why."""
    attribution: str
    """Origin, for the credits."""
    licence: str = "unknown"
    labels: tuple[str, ...] = ()
    """A classifier's classes."""
    max_length: int = 0
    """Tokens read per text (longer texts are cut to it); 0 when not known."""


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    version: str
    models: tuple[ModelInfo, ...] = ()

    def as_json(self) -> dict[str, Any]:
        models = [{**asdict(model), "labels": list(model.labels)} for model in self.models]
        return {"version": self.version, "models": models}

    def to_proto(self) -> service_info_pb2.ServiceInfo:
        return service_info_pb2.ServiceInfo(
            name=self.name,
            version=self.version,
            models=[
                service_info_pb2.ModelInfo(**{**asdict(model), "labels": list(model.labels)})
                for model in self.models
            ],
        )
