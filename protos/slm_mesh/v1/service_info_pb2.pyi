from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DescribeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ServiceInfo(_message.Message):
    __slots__ = ("name", "version", "models")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    models: _containers.RepeatedCompositeFieldContainer[ModelInfo]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., models: _Optional[_Iterable[_Union[ModelInfo, _Mapping]]] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "task", "sha256", "precision", "attribution", "licence", "labels", "max_length")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    PRECISION_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    name: str
    task: str
    sha256: str
    precision: str
    attribution: str
    licence: str
    labels: _containers.RepeatedScalarFieldContainer[str]
    max_length: int
    def __init__(self, name: _Optional[str] = ..., task: _Optional[str] = ..., sha256: _Optional[str] = ..., precision: _Optional[str] = ..., attribution: _Optional[str] = ..., licence: _Optional[str] = ..., labels: _Optional[_Iterable[str]] = ..., max_length: _Optional[int] = ...) -> None: ...
