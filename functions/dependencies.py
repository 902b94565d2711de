"""The composition root: builds services and adapters from the settings, once per process, on first use."""

from __future__ import annotations

import functools

from shared.settings import get_settings


@functools.cache
def table_service():
    from shared.adapters.storage import table_service as build

    return build(get_settings())


def _table(name: str):
    from shared.adapters.storage import ensure_table

    return ensure_table(table_service(), f"{get_settings().table_prefix}{name}")


@functools.cache
def protector():
    from shared.protection import PersonalDataProtector

    return PersonalDataProtector(get_settings().personal_data_key_bytes())


@functools.cache
def config_store():
    from shared.adapters.config_store import ConfigStore

    return ConfigStore(_table("config"), get_settings().config_cache_seconds)


@functools.cache
def ledger():
    from shared.adapters.ledger import Ledger

    return Ledger(_table("ledger"), protector())


@functools.cache
def provisioning_requests():
    from shared.adapters.queues import ProvisioningRequests
    from shared.adapters.storage import queue_client

    settings = get_settings()
    return ProvisioningRequests(queue_client(settings, settings.provisioning_queue))


_clock = None


def clock():
    from shared.ports import SystemClock

    return _clock or SystemClock()


def use_clock(new_clock) -> None:
    """Make every service read time from `new_clock` (tests pass a fixed clock in here)."""
    global _clock
    _clock = new_clock
    reset()


@functools.cache
def booking_service():
    from shared.postcodes import directory
    from shared.services.booking import BookingService

    return BookingService(
        catalog_source=config_store(),
        ledger=ledger(),
        postcodes=directory(),
        protector=protector(),
        provisioning=provisioning_requests(),
        clock=clock(),
        terms_version=get_settings().terms_version,
        events=event_publisher(),
    )


def event_publisher():
    return webhook_publisher()


@functools.cache
def lifecycle_service():
    from shared.services.lifecycle import LifecycleService

    return LifecycleService(
        ledger=ledger(),
        catalog_source=config_store(),
        notifier=provisioning_requests(),
        events=event_publisher(),
        clock=clock(),
    )


@functools.cache
def mailer():
    settings = get_settings()
    from shared.adapters.outbox import OutboxMailer

    # NOTE: the Graph mailer is selected by MAILER=graph once its adapter exists.
    return OutboxMailer(settings.outbox_dir)


@functools.cache
def meeting_provider():
    from shared.adapters.local_meetings import LocalMeetingProvider

    return LocalMeetingProvider(get_settings().public_api_base_url)


@functools.cache
def public_links():
    from shared.links import PublicLinks

    settings = get_settings()
    return PublicLinks(settings.public_api_base_url, settings.citizen_site_url, settings.terms_url, protector())


def compose_mail(kind, booking, counter, topic, links):
    from shared.mail.compose import MailLinks, compose

    return compose(kind, booking, counter, topic, MailLinks(links.join_url, links.manage_url, links.terms_url))


@functools.cache
def provisioning_service():
    from shared.services.provisioning import ProvisioningService

    return ProvisioningService(
        ledger=ledger(),
        catalog_source=config_store(),
        meetings=meeting_provider(),
        mailer=mailer(),
        links=public_links(),
        compose=compose_mail,
        clock=clock(),
    )


def reset() -> None:
    """Forget every built object, so the next call reads the settings again (tests, seeding)."""
    for built in (
        table_service, protector, config_store, ledger, provisioning_requests, booking_service,
        mailer, meeting_provider, public_links, provisioning_service, lifecycle_service,
    ):
        built.cache_clear()
