"""Home Assistant's intents and the devices they act on: what the intent service, the
router's execution and the fallback's checks all need to agree on."""

from __future__ import annotations

#: The domains an intent can act on, where Home Assistant restricts it.
INTENT_DOMAINS = {
    "HassLightSet": {"light"},
    "HassClimateGetTemperature": {"climate"},
    "HassClimateSetTemperature": {"climate"},
    "HassSetPosition": {"cover", "valve"},
    "HassSetVolume": {"media_player"},
    "HassSetVolumeRelative": {"media_player"},
    "HassMediaPause": {"media_player"},
    "HassMediaUnpause": {"media_player"},
    "HassMediaNext": {"media_player"},
    "HassMediaPrevious": {"media_player"},
    "HassMediaPlayerMute": {"media_player"},
    "HassMediaPlayerUnmute": {"media_player"},
    "HassVacuumStart": {"vacuum"},
    "HassVacuumReturnToBase": {"vacuum"},
    "HassVacuumCleanArea": {"vacuum"},
    "HassFanSetSpeed": {"fan"},
}
#: Intents that act on a device; they need an entity, an area/floor or a domain.
TARGETED = frozenset({
    "HassTurnOn", "HassTurnOff", "HassToggle", "HassLightSet", "HassSetPosition",
    "HassGetState", "HassVacuumStart", "HassVacuumReturnToBase", "HassFanSetSpeed",
    "HassLawnMowerStartMowing", "HassLawnMowerDock",
})  # fmt: skip
