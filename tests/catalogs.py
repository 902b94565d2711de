"""Catalogs for tests, built through the same config models as the seed file."""

from __future__ import annotations

from shared.configuration import AgentConfig, ConfigFile, CounterConfig, PolicyConfig, TopicConfig
from shared.domain.model import Catalog

ALL_WEEK = {day: ["00:00-23:59"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
TOPIC = TopicConfig(id="payments", names={"nl": "Betalingen", "fr": "Paiements", "de": "Zahlungen"})


def video_counter(hours: dict | None = None, slot_minutes: int = 30, **extra) -> CounterConfig:
    return CounterConfig(
        id="video",
        channel="video",
        names={"nl": "Videoloket", "fr": "Guichet vidéo", "de": "Videoschalter"},
        slot_minutes=slot_minutes,
        hours=hours or {"mon": ["09:00-12:00"], "tue": ["09:00-12:00"], "wed": ["09:00-12:00"],
                        "thu": ["09:00-12:00"], "fri": ["09:00-12:00"]},
        **extra,
    )


def office(counter_id: str = "gent", hours: dict | None = None) -> CounterConfig:
    return CounterConfig(
        id=counter_id,
        channel="office",
        names={"nl": "HVW Gent", "fr": "CAPAC Gand", "de": "HfA Gent"},
        address={"nl": "Voorbeeldstraat 1, 9000 Gent", "fr": "Voorbeeldstraat 1, 9000 Gand", "de": "Voorbeeldstraat 1, 9000 Gent"},
        slot_minutes=20,
        hours=hours or {"mon": ["09:00-12:00"]},
    )


def agent(agent_id: str, languages=("nl",), counter: str = "video", schedule: dict | None = None, **extra) -> AgentConfig:
    return AgentConfig(id=agent_id, counter=counter, languages=list(languages), schedule=schedule or ALL_WEEK, **extra)


def config(
    counters: list[CounterConfig] | None = None,
    agents: list[AgentConfig] | None = None,
    min_lead_minutes: int = 240,
    horizon_days: int = 30,
    closed_on: list[str] | None = None,
) -> ConfigFile:
    return ConfigFile(
        policy=PolicyConfig(min_lead_minutes=min_lead_minutes, horizon_days=horizon_days, closed_on=closed_on or []),
        topics=[TOPIC],
        counters=counters or [video_counter()],
        agents=agents if agents is not None else [agent("a1", ("nl", "fr"))],
    )


def catalog(**kwargs) -> Catalog:
    return config(**kwargs).to_catalog()
