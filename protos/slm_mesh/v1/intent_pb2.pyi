from slm_mesh.v1 import service_info_pb2 as _service_info_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIER_UNSPECIFIED: _ClassVar[Tier]
    TIER_TEMPLATE: _ClassVar[Tier]
    TIER_SLM: _ClassVar[Tier]
    TIER_LLM: _ClassVar[Tier]
    TIER_NONE: _ClassVar[Tier]
TIER_UNSPECIFIED: Tier
TIER_TEMPLATE: Tier
TIER_SLM: Tier
TIER_LLM: Tier
TIER_NONE: Tier

class RecognizeRequest(_message.Message):
    __slots__ = ("utterances", "request_id")
    UTTERANCES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    utterances: _containers.RepeatedCompositeFieldContainer[Utterance]
    request_id: str
    def __init__(self, utterances: _Optional[_Iterable[_Union[Utterance, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class Utterance(_message.Message):
    __slots__ = ("text", "context")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    text: str
    context: Context
    def __init__(self, text: _Optional[str] = ..., context: _Optional[_Union[Context, _Mapping]] = ...) -> None: ...

class Context(_message.Message):
    __slots__ = ("area", "device")
    AREA_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    area: str
    device: str
    def __init__(self, area: _Optional[str] = ..., device: _Optional[str] = ...) -> None: ...

class RecognizeResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[IntentResult]
    def __init__(self, results: _Optional[_Iterable[_Union[IntentResult, _Mapping]]] = ...) -> None: ...

class IntentResult(_message.Message):
    __slots__ = ("text", "intent", "slots", "confidence", "tier", "reason")
    class SlotsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SlotValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SlotValue, _Mapping]] = ...) -> None: ...
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    text: str
    intent: str
    slots: _containers.MessageMap[str, SlotValue]
    confidence: float
    tier: Tier
    reason: str
    def __init__(self, text: _Optional[str] = ..., intent: _Optional[str] = ..., slots: _Optional[_Mapping[str, SlotValue]] = ..., confidence: _Optional[float] = ..., tier: _Optional[_Union[Tier, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class SlotValue(_message.Message):
    __slots__ = ("text", "number")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    text: str
    number: float
    def __init__(self, text: _Optional[str] = ..., number: _Optional[float] = ...) -> None: ...
