"""What can go wrong reading the home from Home Assistant, each with its wire code."""

from __future__ import annotations

from typing import ClassVar

from slm_mesh.services.errors import EXIT_BAD_INPUT, ErrorCode, SlmMeshError


class HomeAssistantError(SlmMeshError):
    """Home Assistant could not be read (unreachable, closed the connection, or answered
    what is not its API); the follower tries again."""

    code: ClassVar[ErrorCode] = "unavailable"


class HomeAssistantSettingsError(HomeAssistantError):
    """The settings cannot reach Home Assistant (an address that is not one, no token)."""

    code = "misconfigured"
    exit_code = EXIT_BAD_INPUT


class HomeAssistantAuthError(HomeAssistantSettingsError):
    """Home Assistant refused the access token: trying again soon will not help."""


class HomeAssistantDataError(HomeAssistantError):
    """A command's answer is not in the shape Home Assistant's API gives."""

    def __init__(self, command: str, why: str) -> None:
        super().__init__(f"Home Assistant's answer to {command} is not usable: {why}")
        self.command = command
