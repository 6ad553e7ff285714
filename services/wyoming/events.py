"""Wyoming events to router requests, and router answers to the events Home Assistant reads.

Home Assistant's Wyoming conversation agent sends `transcript` (or `recognize`) and reads one
of: `intent`; `intents-start`, `intent`…, `intents-stop` (compound commands); `not-recognized`;
`handled` (a finished reply to speak); `not-handled`. It then runs each intent itself with the
slots as given, so they keep the intent service's Home Assistant shapes.
"""

from __future__ import annotations

import uuid
from typing import Any

from wyoming.asr import Transcript
from wyoming.event import Event
from wyoming.handle import Handled, NotHandled
from wyoming.info import Attribution, HandleModel, HandleProgram, Info, IntentModel, IntentProgram
from wyoming.intent import Entity, Intent, IntentsStart, IntentsStop, NotRecognized, Recognize

from slm_mesh.services.contracts.intent import IntentResult
from slm_mesh.services.contracts.text import CANNOT_HELP
from slm_mesh.services.errors import InvalidRequestError
from slm_mesh.services.redact import scrub
from slm_mesh.services.router.answer import Answer
from slm_mesh.services.router.request import RouterRequest

LANGUAGES = ("en",)
"""What the intent service understands (its templates and its model are English)."""
ATTRIBUTION = Attribution(name="slm-mesh", url="")
"""No address: the project has no published home page yet."""
PROGRAM = "slm-mesh"


def describe(*, version: str, plugin: str) -> Info:
    """What Home Assistant reads at set-up: an intent program (so Assist may control the home
    with it) and a handle program for the replies that are not intents."""
    languages = list(LANGUAGES)
    intent_model = _installed(plugin, "templates, then a small model, for HA intents", version)
    handle_model = _installed(plugin, "the slm-mesh router", version)
    return Info(
        intent=[
            IntentProgram(
                **_installed(PROGRAM, "Home commands by small models, offline", version),
                models=[IntentModel(**intent_model, languages=languages)],
            )
        ],
        handle=[
            HandleProgram(
                **_installed(PROGRAM, "Home commands, summaries and the LLM fallback", version),
                models=[HandleModel(**handle_model, languages=languages)],
                supports_home_control=True,
            )
        ],
    )


def _installed(name: str, description: str, version: str) -> dict[str, Any]:
    """What every Wyoming artifact says about itself."""
    return {
        "name": name,
        "attribution": ATTRIBUTION,
        "installed": True,
        "description": description,
        "version": version,
    }


def request_from(event: Event) -> RouterRequest:
    """A router request from a `transcript` or `recognize` event; InvalidRequestError when
    its fields are not what the protocol says or its language is not one the mesh speaks."""
    data = event.data
    if not isinstance(data, dict):
        raise InvalidRequestError(f"'{event.type}' data must be an object")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidRequestError(f"'{event.type}' has no text", field="text")
    context = data.get("context")
    if context is None:
        context = {}
    if not isinstance(context, dict):
        raise InvalidRequestError("'context' must be an object", field="context")
    language = data.get("language")
    if language is not None and (
        not isinstance(language, str) or language.split("-")[0].lower() not in LANGUAGES
    ):
        raise InvalidRequestError(
            f"slm-mesh understands {', '.join(LANGUAGES)}, not {str(language)[:20]!r}",
            field="language",
        )
    device = context.get("satellite_id") or context.get("device_id")
    if device is not None and (not isinstance(device, str) or len(device) > 200):
        raise InvalidRequestError("a device or satellite id must be text", field="context")
    return RouterRequest(id=uuid.uuid4().hex, text=text, device=device)


def is_request(event: Event) -> bool:
    return Transcript.is_type(event.type) or Recognize.is_type(event.type)


def answer_events(answer: Answer) -> list[Event]:
    """The events Home Assistant reads for one answer, in order."""
    if answer.error_code is not None:
        return [NotHandled(text=scrub(answer.error_message or answer.reason)).event()]
    recognized = [(r.intent, r) for r in answer.intents if r.intent is not None]
    if len(recognized) == 1:
        ((name, result),) = recognized
        return [_intent(name, result, answer.text)]
    if recognized:
        return [
            IntentsStart().event(),
            *(_intent(name, result, None) for name, result in recognized),
            IntentsStop().event(),
        ]
    if answer.tier != "none" and answer.text:
        return [Handled(text=scrub(answer.text)).event()]
    return [NotRecognized(text=scrub(answer.text or CANNOT_HELP)).event()]


def not_handled(message: str) -> Event:
    return NotHandled(text=message).event()


def _intent(name: str, result: IntentResult, text: str | None) -> Event:
    entities = [Entity(name=slot, value=value) for slot, value in result.slots.items()]
    return Intent(name=name, entities=entities, text=text).event()
