"""Which home a process reads: the file the settings name, else the demo home that ships
with the package (`home/data/demo_home.yaml`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from slm_mesh.services.home.model import Home, load_home
from slm_mesh.services.settings import Settings


def demo_home_path() -> Path:
    return Path(str(resources.files("slm_mesh.services.home").joinpath("data", "demo_home.yaml")))


def load_settings_home(settings: Settings) -> Home:
    return load_home(settings.home or demo_home_path())
