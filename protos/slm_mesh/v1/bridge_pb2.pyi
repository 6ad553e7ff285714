from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Frame(_message.Message):
    __slots__ = ("version", "device", "seq", "timestamp_ms", "boot_id", "event", "command", "answer", "heartbeat")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    version: int
    device: str
    seq: int
    timestamp_ms: int
    boot_id: int
    event: Event
    command: Command
    answer: Answer
    heartbeat: Heartbeat
    def __init__(self, version: _Optional[int] = ..., device: _Optional[str] = ..., seq: _Optional[int] = ..., timestamp_ms: _Optional[int] = ..., boot_id: _Optional[int] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., answer: _Optional[_Union[Answer, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("text", "button", "sensor", "area")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    BUTTON_FIELD_NUMBER: _ClassVar[int]
    SENSOR_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    text: str
    button: Button
    sensor: Sensor
    area: str
    def __init__(self, text: _Optional[str] = ..., button: _Optional[_Union[Button, _Mapping]] = ..., sensor: _Optional[_Union[Sensor, _Mapping]] = ..., area: _Optional[str] = ...) -> None: ...

class Button(_message.Message):
    __slots__ = ("name", "press")
    class Press(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PRESS_UNSPECIFIED: _ClassVar[Button.Press]
        PRESS_SHORT: _ClassVar[Button.Press]
        PRESS_LONG: _ClassVar[Button.Press]
        PRESS_DOUBLE: _ClassVar[Button.Press]
        PRESS_RELEASE: _ClassVar[Button.Press]
    PRESS_UNSPECIFIED: Button.Press
    PRESS_SHORT: Button.Press
    PRESS_LONG: Button.Press
    PRESS_DOUBLE: Button.Press
    PRESS_RELEASE: Button.Press
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    press: Button.Press
    def __init__(self, name: _Optional[str] = ..., press: _Optional[_Union[Button.Press, str]] = ...) -> None: ...

class Sensor(_message.Message):
    __slots__ = ("name", "value", "unit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: float
    unit: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[float] = ..., unit: _Optional[str] = ...) -> None: ...

class Command(_message.Message):
    __slots__ = ("name", "payload")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    name: str
    payload: str
    def __init__(self, name: _Optional[str] = ..., payload: _Optional[str] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("seq", "text", "intent", "slots", "tier", "confidence", "error")
    class SlotsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    SLOTS_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    seq: int
    text: str
    intent: str
    slots: _containers.ScalarMap[str, str]
    tier: str
    confidence: float
    error: str
    def __init__(self, seq: _Optional[int] = ..., text: _Optional[str] = ..., intent: _Optional[str] = ..., slots: _Optional[_Mapping[str, str]] = ..., tier: _Optional[str] = ..., confidence: _Optional[float] = ..., error: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("uptime_ms", "interval_s")
    UPTIME_MS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_S_FIELD_NUMBER: _ClassVar[int]
    uptime_ms: int
    interval_s: int
    def __init__(self, uptime_ms: _Optional[int] = ..., interval_s: _Optional[int] = ...) -> None: ...
