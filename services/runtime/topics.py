"""The mesh's topic tree, in one place (documented in the README).

<prefix>/event/<device>                   device events in: voice transcripts, commands
<prefix>/ask                              direct requests to the router
<prefix>/results                          every answer the router gives (dashboards)
<prefix>/service/<task>/request           requests to a service's replicas (shared)
<prefix>/service/<task>/results           every result a service gives
<prefix>/status/<service>/<instance>      retained online/offline status, with a last will
<prefix>/reply/<client>                   where a requester gets its replies
"""

from __future__ import annotations

from dataclasses import dataclass

from paho.mqtt.client import topic_matches_sub


@dataclass(frozen=True)
class Topics:
    prefix: str = "slm-mesh"

    @property
    def events(self) -> str:
        return f"{self.prefix}/event/#"

    def event(self, device: str) -> str:
        return f"{self.prefix}/event/{device}"

    @property
    def ask(self) -> str:
        return f"{self.prefix}/ask"

    @property
    def results(self) -> str:
        return f"{self.prefix}/results"

    def request(self, task: str) -> str:
        return f"{self.prefix}/service/{task}/request"

    def service_results(self, task: str) -> str:
        return f"{self.prefix}/service/{task}/results"

    def status(self, service: str = "+", instance: str = "+") -> str:
        return f"{self.prefix}/status/{service}/{instance}"

    def reply(self, client_id: str) -> str:
        return f"{self.prefix}/reply/{client_id}"


def shared(group: str, topic_filter: str, *, enabled: bool = True) -> str:
    """A shared subscription, so replicas split the work; a plain one where the broker
    has none (then run one replica)."""
    return f"$share/{group}/{topic_filter}" if enabled else topic_filter


def matches(topic: str, topic_filter: str) -> bool:
    """Whether a received topic belongs to a (possibly shared) subscription."""
    if topic_filter.startswith("$share/"):
        topic_filter = topic_filter.split("/", 2)[2]
    return bool(topic_matches_sub(topic_filter, topic))
