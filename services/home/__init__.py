"""The home a user describes once (`model`: floors, areas, entities, read from a YAML file
in Home Assistant's intents fixture shape), what Home Assistant MQTT discovery adds to it
(`discovery`), and which intents act on which devices (`domains`). Every service and the
router read the home from here; none reaches into another's package for it."""
