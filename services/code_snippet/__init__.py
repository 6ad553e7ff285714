"""The code-snippet service: a description in, a snippet out that uses the home's own
entity ids and says whether it passed its format's checks.

- `service` (for the kit) and `core` (library or model, then validation; streamed).
- The library: `library` (the curated snippets, YAML templates with `<<name>>`
  placeholders), `retrieval` (the closest snippet that takes what the request names),
  `fill` (the request and the home into its parameters), `refine` (the conditions and
  further actions a request puts around an automation; `actions` reads one clause's verb),
  `request_format` (the format, when a request does not say).
- The model: `generative` (guided by a schema made from the home).
- Validation (`validate`, pure and offline: parsed, never run): an automation names only
  the home's entities and Home Assistant's real actions (`ha_services`); an ESPHome config
  has its platform block and each component's required keys (`esphome_components`);
  Python compiles and MicroPython imports only what it has; shell passes `bash -n`; every
  format names only what the home has (`validate_names`).
- `evaluate`: the share of labelled requests answered right.

The formats and the language of each are the contract's (`contracts/code.py`).
"""
