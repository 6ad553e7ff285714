from slm_mesh.v1 import service_info_pb2 as _service_info_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SummarizeRequest(_message.Message):
    __slots__ = ("documents", "request_id")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    request_id: str
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("text", "events_json", "max_sentences", "max_chars")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    EVENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    MAX_SENTENCES_FIELD_NUMBER: _ClassVar[int]
    MAX_CHARS_FIELD_NUMBER: _ClassVar[int]
    text: str
    events_json: str
    max_sentences: int
    max_chars: int
    def __init__(self, text: _Optional[str] = ..., events_json: _Optional[str] = ..., max_sentences: _Optional[int] = ..., max_chars: _Optional[int] = ...) -> None: ...

class SummarizeResponse(_message.Message):
    __slots__ = ("summaries",)
    SUMMARIES_FIELD_NUMBER: _ClassVar[int]
    summaries: _containers.RepeatedCompositeFieldContainer[Summary]
    def __init__(self, summaries: _Optional[_Iterable[_Union[Summary, _Mapping]]] = ...) -> None: ...

class Summary(_message.Message):
    __slots__ = ("summary", "sentences")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    summary: str
    sentences: _containers.RepeatedCompositeFieldContainer[SummarySentence]
    def __init__(self, summary: _Optional[str] = ..., sentences: _Optional[_Iterable[_Union[SummarySentence, _Mapping]]] = ...) -> None: ...

class SummarySentence(_message.Message):
    __slots__ = ("text", "start", "end", "events")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    text: str
    start: int
    end: int
    events: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, text: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ..., events: _Optional[_Iterable[int]] = ...) -> None: ...
