from slm_mesh.v1 import service_info_pb2 as _service_info_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WriteRequest(_message.Message):
    __slots__ = ("requests", "request_id")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[CodeRequest]
    request_id: str
    def __init__(self, requests: _Optional[_Iterable[_Union[CodeRequest, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CodeRequest(_message.Message):
    __slots__ = ("prompt", "format")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    format: str
    def __init__(self, prompt: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class WriteResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CodeAnswer]
    def __init__(self, results: _Optional[_Iterable[_Union[CodeAnswer, _Mapping]]] = ...) -> None: ...

class CodeAnswer(_message.Message):
    __slots__ = ("prompt", "format", "code", "language", "valid", "problems", "tier", "source", "notes")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    format: str
    code: str
    language: str
    valid: bool
    problems: _containers.RepeatedScalarFieldContainer[str]
    tier: str
    source: str
    notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, prompt: _Optional[str] = ..., format: _Optional[str] = ..., code: _Optional[str] = ..., language: _Optional[str] = ..., valid: _Optional[bool] = ..., problems: _Optional[_Iterable[str]] = ..., tier: _Optional[str] = ..., source: _Optional[str] = ..., notes: _Optional[_Iterable[str]] = ...) -> None: ...

class CodeChunk(_message.Message):
    __slots__ = ("text", "answer", "attempt")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    text: str
    answer: CodeAnswer
    attempt: int
    def __init__(self, text: _Optional[str] = ..., answer: _Optional[_Union[CodeAnswer, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...
