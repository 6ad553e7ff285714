"""What an ESPHome config needs, from esphome.io's "Configuration variables": the platform
blocks (one per config), the components whose items each name a `platform:`, and for the
common platforms the keys marked Required (ESPHome has hundreds more; those are not
checked)."""

from __future__ import annotations

from dataclasses import dataclass

BOARD_KEYS: dict[str, tuple[str, ...]] = {
    "esp32": ("board", "variant"),
    "esp8266": ("board",),
    "rp2040": ("board",),
    "bk72xx": ("board",),
    "rtl87xx": ("board",),
    "ln882x": ("board",),
    "libretiny": ("board",),
    "nrf52": ("board",),
    "host": (),
}
"""Platform block -> the keys it needs one of (`host` runs on a computer: no board)."""


@dataclass(frozen=True)
class Platform:
    required: tuple[tuple[str, ...], ...] = ()
    """Of each inner tuple, at least one key (most are one key: `pin`)."""
    needs: tuple[str, ...] = ()
    """Top-level components the config must also have (the bus the device is on)."""


_PIN = Platform(required=(("pin",),))
_OUTPUT = Platform(required=(("output",),))
_NOTHING = Platform()

PLATFORMS: dict[str, dict[str, Platform]] = {
    "sensor": {
        "adc": _PIN,
        "aht10": Platform(needs=("i2c",)),
        "bh1750": Platform(needs=("i2c",)),
        "bme280_i2c": Platform(required=(("temperature", "humidity", "pressure"),),
                               needs=("i2c",)),
        "bmp280_i2c": Platform(required=(("temperature", "pressure"),), needs=("i2c",)),
        "ct_clamp": Platform(required=(("sensor",),)),
        "dallas_temp": Platform(needs=("one_wire",)),
        "dht": Platform(required=(("pin",), ("temperature", "humidity"))),
        "duty_cycle": _PIN,
        "homeassistant": Platform(required=(("entity_id",),)),
        "hx711": Platform(required=(("dout_pin",), ("clk_pin",))),
        "hlw8012": Platform(required=(("sel_pin",), ("cf_pin",), ("cf1_pin",))),
        "internal_temperature": _NOTHING,
        "pulse_counter": _PIN,
        "pulse_meter": _PIN,
        "rotary_encoder": Platform(required=(("pin_a",), ("pin_b",))),
        "scd4x": Platform(needs=("i2c",)),
        "sht3xd": Platform(needs=("i2c",)),
        "sht4x": Platform(needs=("i2c",)),
        "template": _NOTHING,
        "ultrasonic": Platform(required=(("trigger_pin",), ("echo_pin",))),
        "uptime": _NOTHING,
        "wifi_signal": _NOTHING,
    },
    "binary_sensor": {
        "gpio": _PIN,
        "homeassistant": Platform(required=(("entity_id",),)),
        "status": _NOTHING,
        "template": _NOTHING,
    },
    "switch": {
        "gpio": _PIN,
        "output": _OUTPUT,
        "restart": _NOTHING,
        "safe_mode": _NOTHING,
        "shutdown": _NOTHING,
        "factory_reset": _NOTHING,
        "template": Platform(required=(("lambda", "optimistic", "turn_on_action"),)),
    },
    "output": {
        "gpio": _PIN,
        "ledc": _PIN,
        "esp8266_pwm": _PIN,
        "rp2040_pwm": _PIN,
        "libretiny_pwm": _PIN,
        "slow_pwm": Platform(required=(("pin", "turn_on_action"), ("period",))),
        "sigma_delta_output": Platform(required=(("pin", "turn_on_action"),)),
        "ac_dimmer": Platform(required=(("gate_pin",), ("zero_cross_pin",))),
        "template": Platform(required=(("type",), ("write_action",))),
    },
    "light": {
        "binary": _OUTPUT,
        "monochromatic": _OUTPUT,
        "rgb": Platform(required=(("red",), ("green",), ("blue",))),
        "rgbw": Platform(required=(("red",), ("green",), ("blue",), ("white",))),
        "cwww": Platform(required=(("cold_white",), ("warm_white",))),
        "status_led": _PIN,
        "neopixelbus": Platform(required=(("variant",), ("pin",), ("num_leds",))),
        "esp32_rmt_led_strip": Platform(
            required=(("pin",), ("num_leds",), ("chipset", "bit0_high"), ("rgb_order",))
        ),
        "fastled_clockless": Platform(required=(("chipset",), ("pin",), ("num_leds",))),
        "partition": Platform(required=(("segments",),)),
    },
    "fan": {
        "binary": _OUTPUT,
        "speed": _OUTPUT,
        "hbridge": Platform(required=(("pin_a",), ("pin_b",))),
        "template": _NOTHING,
    },
    "cover": {
        "template": _NOTHING,
        "time_based": Platform(
            required=(("open_action",), ("open_duration",), ("close_action",),
                      ("close_duration",), ("stop_action",))
        ),
        "endstop": Platform(
            required=(("open_action",), ("open_duration",), ("open_endstop",),
                      ("close_action",), ("close_duration",), ("close_endstop",),
                      ("stop_action",))
        ),
    },
    "text_sensor": {
        "template": _NOTHING,
        "version": _NOTHING,
        "wifi_info": _NOTHING,
        "homeassistant": Platform(required=(("entity_id",),)),
    },
    "button": {
        "restart": _NOTHING,
        "safe_mode": _NOTHING,
        "shutdown": _NOTHING,
        "factory_reset": _NOTHING,
        "template": _NOTHING,
        "output": Platform(required=(("output",), ("duration",))),
        "wake_on_lan": Platform(required=(("target_mac_address",),)),
    },
    "number": {"template": Platform(required=(("min_value",), ("max_value",), ("step",)))},
    "select": {"template": Platform(required=(("options",),))},
    "one_wire": {"gpio": _PIN},
    "ota": {"esphome": _NOTHING, "http_request": _NOTHING, "web_server": _NOTHING},
    "time": {"homeassistant": _NOTHING, "sntp": _NOTHING},
}  # fmt: skip
"""Component -> its common platforms -> what each needs."""
PLATFORM_COMPONENTS = frozenset({
    *PLATFORMS, "climate", "cover", "display", "event", "lock", "media_player", "text",
    "update", "valve", "alarm_control_panel", "datetime",
})  # fmt: skip
"""Components whose every item names its `platform:`, checked or not."""
RENAMED: dict[tuple[str, str], str] = {
    ("sensor", "bme280"): "bme280_i2c",
    ("sensor", "bmp280"): "bmp280_i2c",
    ("sensor", "dallas"): "dallas_temp",
}
"""Platforms ESPHome renamed: the old name no longer loads."""
