"""The config table: one row per counter, agent and topic, plus the booking policy.

Rows are flat so that operators can edit them in the Azure portal's storage browser: lists are
comma-separated ("nl,fr"), weekly hours are one cell per weekday ("08:30-12:00,13:00-16:00").
A row that does not validate is skipped and logged by key, so one typo never stops the app.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from pydantic import ValidationError

from shared.configuration import (
    AgentConfig,
    ConfigFile,
    CounterConfig,
    PolicyConfig,
    TopicConfig,
    build_catalog,
)
from shared.domain.model import WEEKDAYS, Catalog

logger = logging.getLogger(__name__)

COUNTER, AGENT, TOPIC, POLICY = "counter", "agent", "topic", "policy"
POLICY_ROW = "booking"
LANGUAGES = ("nl", "fr", "de")


def _join(values) -> str:
    return ",".join(str(v) for v in values)


def _names_to_cells(prefix: str, names: dict) -> dict:
    return {f"{prefix}{str(lang).capitalize()}": text for lang, text in names.items()}


def _cells_to_names(prefix: str, entity: dict) -> dict:
    return {lang: entity[f"{prefix}{lang.capitalize()}"] for lang in LANGUAGES if entity.get(f"{prefix}{lang.capitalize()}")}


def _hours_to_cells(hours) -> dict:
    return {day.capitalize(): _join(getattr(hours, day)) for day in WEEKDAYS}


def _cells_to_hours(entity: dict) -> dict:
    return {day: entity.get(day.capitalize(), "") for day in WEEKDAYS}


def counter_entity(counter: CounterConfig) -> dict:
    return {
        "PartitionKey": COUNTER,
        "RowKey": counter.id,
        "Channel": counter.channel.value,
        **_names_to_cells("Name", counter.names),
        **_names_to_cells("Address", counter.address),
        "SlotMinutes": counter.slot_minutes,
        **_hours_to_cells(counter.hours),
        "ClosedOn": _join(counter.closed_on),
    }


def agent_entity(agent: AgentConfig) -> dict:
    return {
        "PartitionKey": AGENT,
        "RowKey": agent.id,
        "Counter": agent.counter,
        "Languages": _join(agent.languages),
        **_hours_to_cells(agent.schedule),
        "AbsentOn": _join(agent.absent_on),
        "GraphUserId": agent.graph_user_id or "",
    }


def topic_entity(topic: TopicConfig) -> dict:
    return {"PartitionKey": TOPIC, "RowKey": topic.id, **_names_to_cells("Name", topic.names)}


def policy_entity(policy: PolicyConfig) -> dict:
    return {
        "PartitionKey": POLICY,
        "RowKey": POLICY_ROW,
        "MinLeadMinutes": policy.min_lead_minutes,
        "HorizonDays": policy.horizon_days,
        "ClosedOn": _join(policy.closed_on),
        "ReminderHours": policy.reminder_hours,
    }


def entity_to_counter(entity: dict) -> CounterConfig:
    return CounterConfig(
        id=entity["RowKey"],
        channel=entity.get("Channel"),
        names=_cells_to_names("Name", entity),
        address=_cells_to_names("Address", entity),
        slot_minutes=entity.get("SlotMinutes"),
        hours=_cells_to_hours(entity),
        closed_on=entity.get("ClosedOn", ""),
    )


def entity_to_agent(entity: dict) -> AgentConfig:
    return AgentConfig(
        id=entity["RowKey"],
        counter=entity.get("Counter"),
        languages=entity.get("Languages", ""),
        schedule=_cells_to_hours(entity),
        absent_on=entity.get("AbsentOn", ""),
        graph_user_id=entity.get("GraphUserId") or None,
    )


def entity_to_topic(entity: dict) -> TopicConfig:
    return TopicConfig(id=entity["RowKey"], names=_cells_to_names("Name", entity))


def entity_to_policy(entity: dict) -> PolicyConfig:
    return PolicyConfig(
        min_lead_minutes=entity.get("MinLeadMinutes", 240),
        horizon_days=entity.get("HorizonDays", 30),
        closed_on=entity.get("ClosedOn", ""),
        reminder_hours=entity.get("ReminderHours", 24),
    )


def _parse_rows(entities, convert: Callable[[dict], object], kind: str) -> list:
    parsed = []
    for entity in entities:
        try:
            parsed.append(convert(entity))
        except (ValidationError, KeyError, TypeError) as error:
            logger.warning("skipped invalid %s row %s: %s", kind, entity.get("RowKey"), error)
    return parsed


def catalog_from_entities(entities: list[dict]) -> Catalog:
    by_kind: dict[str, list[dict]] = {COUNTER: [], AGENT: [], TOPIC: [], POLICY: []}
    for entity in entities:
        by_kind.setdefault(entity["PartitionKey"], []).append(entity)
    policies = _parse_rows(by_kind[POLICY], entity_to_policy, POLICY)
    return build_catalog(
        policies[0] if policies else PolicyConfig(),
        _parse_rows(by_kind[TOPIC], entity_to_topic, TOPIC),
        _parse_rows(by_kind[COUNTER], entity_to_counter, COUNTER),
        _parse_rows(by_kind[AGENT], entity_to_agent, AGENT),
    )


def config_entities(config: ConfigFile) -> list[dict]:
    return [
        policy_entity(config.policy),
        *(topic_entity(t) for t in config.topics),
        *(counter_entity(c) for c in config.counters),
        *(agent_entity(a) for a in config.agents),
    ]


class ConfigStore:
    """Reads the catalog from the config table and keeps it for `max_age_seconds`."""

    def __init__(self, table, max_age_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._table = table
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, Catalog] | None = None

    def catalog(self) -> Catalog:
        with self._lock:
            if self._cached and self._monotonic() - self._cached[0] < self._max_age:
                return self._cached[1]
            catalog = catalog_from_entities(list(self._table.list_entities()))
            self._cached = (self._monotonic(), catalog)
            return catalog

    def replace(self, config: ConfigFile, prune: bool = False) -> tuple[int, int]:
        """Upsert every row of `config`; with `prune`, delete rows the file no longer has.
        Returns (rows written, rows deleted)."""
        from azure.data.tables import UpdateMode

        wanted = config_entities(config)
        for entity in wanted:
            self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        deleted = 0
        if prune:
            keep = {(e["PartitionKey"], e["RowKey"]) for e in wanted}
            for entity in self._table.list_entities(select=["PartitionKey", "RowKey"]):
                if (entity["PartitionKey"], entity["RowKey"]) not in keep:
                    self._table.delete_entity(entity["PartitionKey"], entity["RowKey"])
                    deleted += 1
        with self._lock:
            self._cached = None
        return len(wanted), deleted
