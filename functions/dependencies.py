"""The composition root: builds services and adapters from the settings, once per process, on first use."""

from __future__ import annotations

import functools


def get_settings():
    """Return the app settings. The import waits for the first call, because pydantic-settings is slow to import."""
    from shared.settings import get_settings as load

    return load()


@functools.cache
def telemetry() -> bool:
    """Configure logging and, where configured, the export to Application Insights; once per process."""
    from shared.telemetry import configure_logging

    return configure_logging()


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
    telemetry()
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
    telemetry()
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
    telemetry()
    from datetime import timedelta

    from shared.services.lifecycle import LifecycleService

    return LifecycleService(
        ledger=ledger(),
        catalog_source=config_store(),
        notifier=provisioning_requests(),
        events=event_publisher(),
        clock=clock(),
        settle=timedelta(seconds=get_settings().rules_settle_seconds),
    )


@functools.cache
def retention_service():
    from datetime import timedelta

    from shared.services.retention import RetentionService

    return RetentionService(ledger(), clock(), timedelta(days=get_settings().retention_days))


@functools.cache
def mailer():
    """Build the Mailer that MAILER selects (Graph, or the local outbox), behind the mail log that sends each mail once."""
    from shared.adapters.mail_log import RecordedMailer
    from shared.settings import MailerKind

    settings = get_settings()
    if settings.mailer is MailerKind.GRAPH:
        from shared.adapters.graph.mail import GraphMailer

        sender = GraphMailer(graph_api(), settings.graph_mailbox, settings.graph_mail_concurrency)
    else:
        from shared.adapters.outbox import OutboxMailer

        sender = OutboxMailer(settings.outbox_dir)
    return RecordedMailer(mail_log(), sender)


@functools.cache
def meeting_provider():
    """Build the MeetingProvider that MEETING_PROVIDER selects: Teams meetings through Graph, or local join links."""
    from shared.settings import MeetingProviderKind

    settings = get_settings()
    if settings.meeting_provider is MeetingProviderKind.GRAPH:
        from shared.adapters.graph.meetings import GraphMeetingProvider, MeetingOptions

        options = MeetingOptions(
            lobby_bypass_scope=settings.graph_lobby_bypass_scope.value,
            allowed_presenters=settings.graph_allowed_presenters.value,
            meeting_chat=settings.graph_meeting_chat.value,
            announce_entry_exit=settings.graph_announce_entry_exit,
            attendee_camera=settings.graph_attendee_camera,
            attendee_microphone=settings.graph_attendee_microphone,
        )
        return GraphMeetingProvider(
            graph_api(),
            config_store(),
            default_organizer=settings.graph_organizer_user_id,
            options=options,
            subject_prefix=settings.graph_meeting_subject_prefix,
            virtual_appointment_links=settings.graph_virtual_appointment_links,
        )
    from shared.adapters.local_meetings import LocalMeetingProvider

    return LocalMeetingProvider(settings.public_api_base_url)


@functools.cache
def public_links():
    from shared.links import PublicLinks

    settings = get_settings()
    return PublicLinks(settings.public_api_base_url, settings.citizen_site_url, settings.terms_url, protector())


def compose_mail(kind, booking, counter, topic, links):
    from shared.mail.compose import DEFAULT_ORGANIZER, MailLinks, compose
    from shared.settings import MailerKind

    settings = get_settings()
    organizer = settings.graph_mailbox if settings.mailer is MailerKind.GRAPH and settings.graph_mailbox else DEFAULT_ORGANIZER
    mail_links = MailLinks(links.join_url, links.manage_url, links.terms_url, booking_url=settings.citizen_site_url)
    return compose(kind, booking, counter, topic, mail_links, organizer=organizer)


def team_alert():
    """Return the composer of the agent-late alert to TEAM_ALERT_ADDRESS, or None when none is set."""
    settings = get_settings()
    if not settings.team_alert_address:
        return None

    def compose(booking, counter, topic):
        from shared.mail.alerts import compose_agent_late_alert

        return compose_agent_late_alert(
            booking, counter, topic, to=settings.team_alert_address, language=settings.team_alert_language.value
        )

    return compose


@functools.cache
def provisioning_service():
    telemetry()
    from shared.mail.compose import MAIL_KINDS
    from shared.services.provisioning import ProvisioningService, RetryPolicy

    settings = get_settings()
    return ProvisioningService(
        ledger=ledger(),
        catalog_source=config_store(),
        meetings=meeting_provider(),
        mailer=mailer(),
        links=public_links(),
        compose=compose_mail,
        clock=clock(),
        retry_queue=provisioning_requests(),
        policy=RetryPolicy(
            max_attempts=settings.provisioning_max_attempts,
            base_delay=settings.provisioning_retry_base_seconds,
            max_delay=settings.provisioning_retry_max_seconds,
            max_inline_wait=settings.provisioning_max_inline_wait_seconds,
        ),
        mail_kinds=frozenset(MAIL_KINDS),
        team_alert=team_alert(),
    )


def reset() -> None:
    """Forget every built object, so the next call reads the settings again (tests, seeding)."""
    for built in (
        table_service, protector, config_store, ledger, provisioning_requests, booking_service,
        mailer, meeting_provider, public_links, provisioning_service, lifecycle_service, retention_service,
        webhook_queue, webhook_publisher, webhook_delivery, graph_api, mail_log,
        notification_certificate, notification_queue, notification_reader, graph_subscriptions,
        call_event_service, subscription_manager, attendance_reconciler,
    ):
        built.cache_clear()


@functools.cache
def webhook_queue():
    from shared.adapters.storage import queue_client
    from shared.adapters.webhooks import WebhookQueue

    settings = get_settings()
    return WebhookQueue(queue_client(settings, settings.webhook_queue))


@functools.cache
def webhook_publisher():
    from shared.adapters.webhooks import WebhookPublisher

    return WebhookPublisher(webhook_queue(), get_settings().webhook_url_list())


@functools.cache
def webhook_delivery():
    telemetry()
    from shared.adapters.webhooks import WebhookDelivery, load_secret

    settings = get_settings()
    return WebhookDelivery(
        queue=webhook_queue(),
        secret=load_secret(settings),
        urls=settings.webhook_url_list(),
        max_attempts=settings.webhook_max_attempts,
        timeout_seconds=settings.webhook_timeout_seconds,
        clock=clock(),
    )


@functools.cache
def graph_api():
    """Build the Microsoft Graph client. msgraph and azure.identity load on its first request."""
    from shared.adapters.graph.client import GraphApi, GraphConnection

    return GraphApi(GraphConnection.from_settings(get_settings()))


@functools.cache
def mail_log():
    from shared.adapters.mail_log import MailLog

    return MailLog(_table("maillog"), clock())


# --- Graph call events (functions/graph_events.py, shared/services/call_events.py) ------------------


@functools.cache
def notification_certificate():
    """Load the certificate that decrypts Graph's rich notifications, or None when none is configured."""
    settings = get_settings()
    if not settings.graph_notification_certificate_path:
        return None
    from shared.adapters.graph.subscriptions import NotificationCertificate

    password = settings.graph_notification_certificate_password
    return NotificationCertificate.from_pem_file(
        settings.graph_notification_certificate_path,
        password.get_secret_value() if password else None,
        settings.graph_notification_certificate_id,
    )


@functools.cache
def notification_queue():
    from shared.adapters.graph.subscriptions import NotificationQueue
    from shared.adapters.storage import queue_client

    settings = get_settings()
    return NotificationQueue(queue_client(settings, settings.graph_events_queue))


@functools.cache
def notification_reader():
    from shared.adapters.graph.subscriptions import NotificationReader

    return NotificationReader(notification_certificate())


@functools.cache
def graph_subscriptions():
    """Build the client of Graph subscriptions. Raises GraphConfigurationError naming a missing or invalid setting."""
    from urllib.parse import urlsplit

    from shared.adapters.graph.errors import GraphConfigurationError
    from shared.adapters.graph.subscriptions import GraphSubscriptions

    settings = get_settings()
    required = (
        ("GRAPH_NOTIFICATION_URL", settings.graph_notification_url),
        ("GRAPH_NOTIFICATION_CLIENT_STATE", settings.graph_notification_client_state),
        ("GRAPH_NOTIFICATION_CERTIFICATE_PATH", settings.graph_notification_certificate_path),
    )
    for name, value in required:
        if not value:
            raise GraphConfigurationError("createSubscription", f"{name} is missing: GRAPH_CALL_EVENTS=true needs it")
    client_state = settings.graph_notification_client_state.get_secret_value()
    if len(client_state) > 128:
        raise GraphConfigurationError(
            "createSubscription", "GRAPH_NOTIFICATION_CLIENT_STATE is invalid: use at most 128 characters"
        )
    urls = {"GRAPH_NOTIFICATION_URL": settings.graph_notification_url.get_secret_value()}
    if settings.graph_lifecycle_notification_url:
        urls["GRAPH_LIFECYCLE_NOTIFICATION_URL"] = settings.graph_lifecycle_notification_url.get_secret_value()
    for name, url in urls.items():
        # Graph calls only https endpoints. The message leaves out the URL, because it contains the function key.
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise GraphConfigurationError(
                "createSubscription", f"{name} is invalid: set the https URL of receive_graph_notification"
            )
    return GraphSubscriptions(
        graph_api(),
        settings.graph_beta_url(),
        notification_url=urls["GRAPH_NOTIFICATION_URL"],
        client_state=client_state,
        certificate=notification_certificate(),
        lifecycle_url=urls.get("GRAPH_LIFECYCLE_NOTIFICATION_URL"),
    )


@functools.cache
def call_event_service():
    telemetry()
    from shared.services.call_events import CallEventService

    return CallEventService(ledger(), lifecycle_service(), config_store(), graph_subscriptions())


@functools.cache
def subscription_manager():
    telemetry()
    from datetime import timedelta

    from shared.services.call_events import SubscriptionManager

    window = timedelta(hours=get_settings().graph_subscription_window_hours)
    return SubscriptionManager(ledger(), config_store(), graph_subscriptions(), clock(), window)


@functools.cache
def attendance_reconciler():
    telemetry()
    from datetime import timedelta

    from shared.adapters.graph.attendance import GraphAttendanceReports
    from shared.services.call_events import AttendanceReconciler

    settings = get_settings()
    return AttendanceReconciler(
        ledger(), config_store(), GraphAttendanceReports(graph_api()), clock(),
        delay=timedelta(minutes=settings.graph_attendance_delay_minutes),
        lookback=timedelta(hours=settings.graph_attendance_lookback_hours),
    )
