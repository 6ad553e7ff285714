"""The code-snippet service's core: a request in, a snippet out that uses the home's own
entity ids and says whether it passed its format's checks.

Formats (`formats`): `homeassistant-automation`, `esphome`, `micropython`, `python` and
`shell`. Validation (`validate`) is pure and offline: the snippet is parsed, never run;
an automation names only the home's entities and Home Assistant's real actions
(`ha_services`); an ESPHome config has its platform block and each component's required
keys (`esphome_components`); MicroPython imports only what MicroPython has; a shell
snippet passes `bash -n`. The library (`library`) is the curated snippets, YAML files of
templates with `<<name>>` placeholders that the request and the home fill.
"""
