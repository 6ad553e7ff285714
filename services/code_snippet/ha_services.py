"""What Home Assistant's automations can say: the actions (services) of each domain, as
`homeassistant/components/<domain>/services.yaml` declares them, the action steps that are
not services, and the trigger and condition types with the keys each needs."""

from __future__ import annotations

_TOGGLE = ("turn_on", "turn_off", "toggle")

SERVICES: dict[str, frozenset[str]] = {
    domain: frozenset(names)
    for domain, names in {
        "alarm_control_panel": (
            "alarm_disarm", "alarm_arm_home", "alarm_arm_away", "alarm_arm_night",
            "alarm_arm_vacation", "alarm_arm_custom_bypass", "alarm_trigger",
        ),
        "assist_satellite": ("announce", "start_conversation"),
        "automation": (*_TOGGLE, "trigger", "reload"),
        "button": ("press",),
        "calendar": ("create_event", "get_events"),
        "camera": (
            "turn_on", "turn_off", "enable_motion_detection", "disable_motion_detection",
            "snapshot", "play_stream", "record",
        ),
        "climate": (
            *_TOGGLE, "set_temperature", "set_humidity", "set_hvac_mode", "set_preset_mode",
            "set_fan_mode", "set_swing_mode", "set_swing_horizontal_mode",
        ),
        "conversation": ("process", "reload"),
        "counter": ("increment", "decrement", "reset", "set_value"),
        "cover": (
            "open_cover", "close_cover", "stop_cover", "toggle", "set_cover_position",
            "open_cover_tilt", "close_cover_tilt", "stop_cover_tilt", "toggle_cover_tilt",
            "set_cover_tilt_position",
        ),
        "date": ("set_value",),
        "datetime": ("set_value",),
        "fan": (
            *_TOGGLE, "set_percentage", "increase_speed", "decrease_speed", "oscillate",
            "set_direction", "set_preset_mode",
        ),
        "group": ("reload", "set", "remove"),
        "homeassistant": (
            *_TOGGLE, "update_entity", "reload_core_config", "reload_config_entry",
            "reload_custom_templates", "reload_all", "restart", "stop", "check_config",
            "set_location", "save_persistent_states",
        ),
        "humidifier": (*_TOGGLE, "set_mode", "set_humidity"),
        "input_boolean": (*_TOGGLE, "reload"),
        "input_button": ("press", "reload"),
        "input_datetime": ("set_datetime", "reload"),
        "input_number": ("set_value", "increment", "decrement", "reload"),
        "input_select": (
            "select_option", "select_first", "select_last", "select_next",
            "select_previous", "set_options", "reload",
        ),
        "input_text": ("set_value", "reload"),
        "lawn_mower": ("start_mowing", "pause", "dock"),
        "light": _TOGGLE,
        "lock": ("lock", "unlock", "open"),
        "logbook": ("log",),
        "media_player": (
            *_TOGGLE, "volume_up", "volume_down", "volume_set", "volume_mute",
            "media_play_pause", "media_play", "media_pause", "media_stop", "media_next_track",
            "media_previous_track", "media_seek", "play_media", "select_source",
            "select_sound_mode", "clear_playlist", "shuffle_set", "repeat_set", "join",
            "unjoin", "browse_media", "search_media",
        ),
        "mqtt": ("publish", "dump", "reload"),
        "notify": ("notify", "persistent_notification", "send_message"),
        "number": ("set_value",),
        "persistent_notification": ("create", "dismiss", "dismiss_all"),
        "person": ("reload",),
        "remote": (*_TOGGLE, "send_command", "learn_command", "delete_command"),
        "scene": ("turn_on", "apply", "create", "delete", "reload"),
        "script": (*_TOGGLE, "reload"),
        "select": (
            "select_option", "select_first", "select_last", "select_next", "select_previous",
        ),
        "siren": _TOGGLE,
        "switch": _TOGGLE,
        "text": ("set_value",),
        "time": ("set_value",),
        "timer": ("start", "pause", "cancel", "finish", "change", "reload"),
        "todo": (
            "add_item", "update_item", "remove_item", "get_items", "remove_completed_items",
        ),
        "tts": ("speak", "clear_cache", "cloud_say", "google_translate_say"),
        "update": ("install", "skip", "clear_skipped"),
        "vacuum": (
            "start", "pause", "stop", "return_to_base", "clean_spot", "clean_area", "locate",
            "send_command", "set_fan_speed", "start_pause",
        ),
        "valve": ("open_valve", "close_valve", "stop_valve", "toggle", "set_valve_position"),
        "water_heater": (
            "turn_on", "turn_off", "set_temperature", "set_operation_mode", "set_away_mode",
        ),
        "weather": ("get_forecasts",),
        "zone": ("reload",),
    }.items()
}  # fmt: skip
"""Domain -> its actions. `script.<name>` (one per script) and `notify.mobile_app_<phone>`
(one per phone) are made at run time: `is_service` knows them."""
OPEN_DOMAINS = frozenset({"shell_command", "rest_command", "esphome", "python_script"})
"""Domains whose every action is one the user names in their configuration."""
ANY_DOMAIN = "homeassistant"
"""Its turn_on, turn_off and toggle act on an entity of any domain."""

STEP_KINDS = frozenset({
    "delay", "wait_template", "wait_for_trigger", "choose", "if", "repeat", "condition",
    "event", "variables", "stop", "parallel", "sequence", "scene", "device_id",
    "set_conversation_response",
})  # fmt: skip
"""Action steps that are not a call of a service, by the key that makes each."""

Needs = tuple[tuple[str, ...], ...]
"""Keys a trigger or condition must have: of each inner tuple, at least one."""
TRIGGERS: dict[str, Needs] = {
    "state": (("entity_id",),),
    "numeric_state": (("entity_id",), ("above", "below")),
    "time": (("at",),),
    "time_pattern": (("hours", "minutes", "seconds"),),
    "sun": (("event",),),
    "event": (("event_type",),),
    "mqtt": (("topic",),),
    "template": (("value_template",),),
    "zone": (("entity_id",), ("zone",), ("event",)),
    "geo_location": (("source",), ("zone",), ("event",)),
    "homeassistant": (("event",),),
    "device": (("device_id",), ("domain",)),
    "webhook": (("webhook_id",),),
    "tag": (("tag_id",),),
    "calendar": (("entity_id",), ("event",)),
    "conversation": (("command",),),
    "persistent_notification": (),
}
"""Trigger type (`trigger:`, or the legacy `platform:`) -> the keys it needs."""
CONDITIONS: dict[str, Needs] = {
    "and": (("conditions",),),
    "or": (("conditions",),),
    "not": (("conditions",),),
    "state": (("entity_id",), ("state",)),
    "numeric_state": (("entity_id",), ("above", "below")),
    "sun": (("after", "before"),),
    "template": (("value_template",),),
    "time": (("after", "before", "weekday"),),
    "trigger": (("id",),),
    "zone": (("entity_id",), ("zone",)),
    "device": (("device_id",), ("domain",)),
}
"""Condition type (`condition:`) -> the keys it needs. `and`, `or` and `not` may also be
written as the key itself (`or: [...]`), and a template condition as its template alone."""


def is_service(domain: str, service: str) -> bool:
    """Whether `domain.service` is an action Home Assistant has (scripts aside: those are
    the home's own entities)."""
    if service in SERVICES.get(domain, ()):
        return True
    if domain == "notify":
        return service.startswith("mobile_app_") and len(service) > len("mobile_app_")
    return domain in OPEN_DOMAINS and bool(service)
