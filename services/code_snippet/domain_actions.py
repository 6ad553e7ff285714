"""Switching actions written as the domain's own: `homeassistant.turn_on` of a valve is
`valve.open_valve`, `light.turn_off` of a cover is `cover.close_cover`, and a REST call to
`/api/services/homeassistant/turn_on` for a light is one to `/api/services/light/turn_on`.
Pure.

A snippet written for "turn it on" is the right answer to "open the drip valve" but for its
verb; Home Assistant's generic actions do open a valve, but a reader (and a request) says
"open", and calls a light's action a light's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from slm_mesh.services.code_snippet.ha_services import is_service

#: Domains whose own actions open and close, for the generic on and off.
_OWN = {
    "cover": {"turn_on": "open_cover", "turn_off": "close_cover"},
    "valve": {"turn_on": "open_valve", "turn_off": "close_valve"},
}


def own_domain_actions(steps: Iterable[dict[str, Any]]) -> bool:
    """Each step that turns on or off only covers, or only valves, rewritten as that
    domain's open or close; True when any was."""
    changed = False
    for step in steps:
        name = step.get("action", step.get("service"))
        target = step.get("target")
        if not isinstance(name, str) or not isinstance(target, dict) or "data" in step:
            continue
        ids = target.get("entity_id")
        ids = [ids] if isinstance(ids, str) else ids
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            continue
        domains = {i.partition(".")[0] for i in ids}
        verb = name.partition(".")[2]
        own = _OWN.get(next(iter(domains)), {}) if len(domains) == 1 else {}
        if verb in own:
            step.pop("service", None)
            step["action"] = f"{next(iter(domains))}.{own[verb]}"
            changed = True
    return changed


_GENERIC_PATH = re.compile(r"/api/services/homeassistant/(turn_on|turn_off|toggle)\b")
_ENTITY_ID = re.compile(r"[\"']entity_id[\"']:\s*[\"']([a-z_]+)\.[a-z0-9_]+[\"']")


def own_service_path(code: str) -> str:
    """`code` calling the REST API's action of its entity's own domain where it calls
    Home Assistant's generic one; as it is when its entities are of several domains, or
    of one without that action."""
    generic = _GENERIC_PATH.search(code)
    domains = set(_ENTITY_ID.findall(code))
    if generic is None or len(domains) != 1:
        return code
    domain = domains.pop()
    if not is_service(domain, generic.group(1)):
        return code
    return _GENERIC_PATH.sub(rf"/api/services/{domain}/\1", code)
