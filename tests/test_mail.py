"""Booking mails and their iCalendar invitations, rendered with the real catalogs and templates."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from icalendar import Calendar

from shared.domain.model import Booking, Channel, Language
from shared.i18n import BRUSSELS
from shared.mail.checks import require_single_line
from shared.mail.compose import MAIL_KINDS, MailLinks, compose, compose_cancelled, compose_confirmation
from shared.mail.invite import build_invite, event_uid
from shared.ports import OutgoingMail
from tests.factories import (
    NATIONAL_NUMBER,
    make_booking,
    make_counter_for,
    make_links,
    make_office_counter,
    make_personal,
    make_topic,
)

UTC = timezone.utc
STAMP = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LANGUAGES = [Language.DUTCH, Language.FRENCH, Language.GERMAN]

EXPECTED_SUBJECTS = {
    Language.DUTCH: "Uw afspraak op dinsdag 30 maart 2027 om 09:00 is bevestigd",
    Language.FRENCH: "Votre rendez-vous du mardi 30 mars 2027 à 09:00 est confirmé",
    Language.GERMAN: "Ihr Termin am Dienstag, 30. März 2027, um 09:00 Uhr ist bestätigt",
}

EXPECTED_DATES = {
    Language.DUTCH: "dinsdag 30 maart 2027",
    Language.FRENCH: "mardi 30 mars 2027",
    Language.GERMAN: "Dienstag, 30. März 2027",
}

# One key phrase per rule and preparation item of a video appointment, per language.
VIDEO_KEY_PHRASES = {
    Language.DUTCH: [
        "app Microsoft Teams",
        "recente webbrowser",
        "Een camera, een microfoon en een luidspreker",
        "goede internetverbinding",
        "rustige ruimte waar u alleen bent",
        "identiteitskaart",
        "documenten die u nodig hebt",
        "controleert de medewerker uw identiteit",
        "Laat uw camera aan tijdens het hele gesprek",
        "Het gesprek opnemen is verboden",
        "schermafbeeldingen",
        "Zorg dat u online bent op het beginuur",
        "10 minuten na het begin",
        "geannuleerd wegens afwezigheid",
        "Wij nemen binnen 10 minuten na het beginuur deel",
        "nemen wij contact met u op om een nieuwe afspraak te maken",
        "agressie of bij ongepast gedrag",
        "Het gesprek verloopt in het Nederlands",
        "Uw afspraak wijzigen of annuleren",
        "Lees de gebruiksvoorwaarden",
    ],
    Language.FRENCH: [
        "l’application Microsoft Teams",
        "navigateur web récent",
        "Une caméra, un micro et un haut-parleur",
        "bonne connexion internet",
        "Une pièce calme",
        "carte d’identité",
        "documents nécessaires",
        "l’agent vérifie votre identité",
        "Laissez votre caméra allumée pendant tout l’appel",
        "Il est interdit d’enregistrer l’entretien",
        "captures d’écran",
        "Soyez en ligne à l’heure du début",
        "10 minutes après le début",
        "annulé pour absence",
        "Nous rejoignons l’appel dans les 10 minutes",
        "nous vous contacterons pour fixer un nouveau rendez-vous",
        "en cas d’agressivité ou de comportement inapproprié",
        "L’entretien se déroule en français",
        "Modifier ou annuler votre rendez-vous",
        "Lisez les conditions d’utilisation",
    ],
    Language.GERMAN: [
        "App Microsoft Teams",
        "aktuellen Webbrowser",
        "Eine Kamera, ein Mikrofon und einen Lautsprecher",
        "gute Internetverbindung",
        "ruhigen Raum, in dem Sie allein sind",
        "Personalausweis",
        "Unterlagen, die Sie für Ihre Frage brauchen",
        "Zu Beginn prüfen wir Ihre Identität",
        "Lassen Sie Ihre Kamera während des gesamten Gesprächs eingeschaltet",
        "Es ist verboten, das Gespräch aufzuzeichnen",
        "Bildschirmfotos",
        "Seien Sie zu Beginn online",
        "10 Minuten nach Beginn",
        "wegen Nichterscheinens abgesagt",
        "Wir treten dem Gespräch innerhalb von 10 Minuten nach Beginn bei",
        "kontaktieren wir Sie, um einen neuen Termin zu vereinbaren",
        "bei Aggression oder bei unangemessenem Verhalten",
        "Das Gespräch findet auf Deutsch statt",
        "Ihren Termin ändern oder absagen",
        "Lesen Sie die Nutzungsbedingungen",
    ],
}

JOIN_BUTTON_TEXT = {
    Language.DUTCH: "Deelnemen aan het videogesprek",
    Language.FRENCH: "Rejoindre l’appel vidéo",
    Language.GERMAN: "Am Videogespräch teilnehmen",
}


def confirmation_for(booking: Booking, links: MailLinks | None = None) -> OutgoingMail:
    return compose_confirmation(
        booking, make_counter_for(booking), make_topic(), links or make_links(booking), now=STAMP
    )


def parse_invite(mail: OutgoingMail) -> Calendar:
    (attachment,) = mail.attachments
    return Calendar.from_ical(attachment.content)


def only_event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


class TagBalanceChecker(HTMLParser):
    """Record HTML elements that are closed out of order or never closed."""

    VOID = {"meta", "br", "img", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.html_lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.html_lang = dict(attrs).get("lang")
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"unexpected </{tag}> with open {self.open}")
        else:
            self.open.pop()


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_subject_has_date_and_time(language: Language) -> None:
    mail = confirmation_for(make_booking(language=language))

    assert mail.subject == EXPECTED_SUBJECTS[language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_shows_babel_date_and_times(language: Language) -> None:
    mail = confirmation_for(make_booking(language=language))

    for part in (mail.text, mail.html):
        assert EXPECTED_DATES[language] in part
        assert "09:00" in part
        assert "09:30" in part


@pytest.mark.parametrize("language", LANGUAGES)
def test_video_confirmation_has_join_link(language: Language) -> None:
    booking = make_booking(language=language)
    links = make_links(booking)

    mail = confirmation_for(booking, links)

    assert links.join_url in mail.text
    assert f'href="{links.join_url}"' in mail.html
    assert JOIN_BUTTON_TEXT[language] in mail.html
    assert make_topic().names[language] in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_video_confirmation_lists_rules(language: Language) -> None:
    mail = confirmation_for(make_booking(language=language))

    for phrase in VIDEO_KEY_PHRASES[language]:
        assert phrase in mail.text, phrase
        assert phrase in mail.html, phrase


@pytest.mark.parametrize("language", LANGUAGES)
def test_office_confirmation_has_address_not_join_link(language: Language) -> None:
    booking = make_booking(channel=Channel.OFFICE, language=language)
    counter = make_office_counter()

    mail = confirmation_for(booking)

    address_lines = counter.address[language].split("\n")
    assert counter.names[language] in mail.text
    for line in address_lines:
        assert line in mail.text
        assert line in mail.html
    assert "<br>".join(address_lines) in mail.html
    assert "/api/join/" not in mail.text
    assert "/api/join/" not in mail.html
    assert JOIN_BUTTON_TEXT[language] not in mail.html
    assert "Microsoft Teams" not in mail.text


def test_office_confirmation_has_no_camera_rule() -> None:
    mail = confirmation_for(make_booking(channel=Channel.OFFICE))

    assert "camera" not in mail.text
    assert "Zorg dat u op het beginuur op kantoor bent" in mail.text


@pytest.mark.parametrize("channel", [Channel.VIDEO, Channel.OFFICE])
@pytest.mark.parametrize("kind", sorted(MAIL_KINDS))
def test_mail_never_contains_national_number(kind: str, channel: Channel) -> None:
    booking = make_booking(channel=channel)

    mail = compose(kind, booking, make_counter_for(booking), make_topic(), make_links(booking), now=STAMP)

    parts = [mail.subject, mail.text, mail.html, mail.dedup_key]
    parts += [attachment.content.decode("utf-8") for attachment in mail.attachments]
    for part in parts:
        assert NATIONAL_NUMBER not in part


@pytest.mark.parametrize("language", LANGUAGES)
def test_subject_has_no_personal_data(language: Language) -> None:
    personal = make_personal()

    mail = confirmation_for(make_booking(language=language, personal=personal))

    for value in (personal.first_name, personal.last_name, personal.email, personal.phone):
        assert value not in mail.subject


def test_greeting_names_citizen() -> None:
    mail = confirmation_for(make_booking(language=Language.GERMAN))

    assert "Guten Tag Anna Peeters," in mail.text
    assert "Guten Tag Anna Peeters," in mail.html


def test_html_escapes_first_name() -> None:
    personal = make_personal(first_name="<script>alert(1)</script>", last_name="O'Brien & Co")

    mail = confirmation_for(make_booking(personal=personal))

    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "O&#39;Brien &amp; Co" in mail.html
    assert "Beste <script>alert(1)</script> O'Brien & Co," in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(MAIL_KINDS))
def test_html_is_well_formed_with_lang(kind: str, language: Language) -> None:
    booking = make_booking(language=language)
    mail = compose(kind, booking, make_counter_for(booking), make_topic(), make_links(booking), now=STAMP)
    checker = TagBalanceChecker()

    checker.feed(mail.html)
    checker.close()

    assert checker.problems == []
    assert checker.open == []
    assert checker.html_lang == language.value
    assert "<h1" in mail.html
    assert "<h2" in mail.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(MAIL_KINDS))
def test_every_kind_renders_without_leftovers(kind: str, language: Language) -> None:
    booking = make_booking(language=language, channel=Channel.OFFICE)

    mail = compose(kind, booking, make_counter_for(booking), make_topic(), make_links(booking), now=STAMP)

    for part in (mail.subject, mail.text, mail.html):
        assert "%(" not in part
        assert "{date}" not in part
        assert "{{" not in part
    assert mail.dedup_key == f"VL-7K3M-Q2:{kind}:0"


def test_confirmation_dedup_key_has_sequence() -> None:
    mail = confirmation_for(make_booking(sequence=3))

    assert mail.dedup_key == "VL-7K3M-Q2:confirmation:3"


def test_reminder_has_no_invitation() -> None:
    booking = make_booking()

    mail = compose("reminder", booking, make_counter_for(booking), make_topic(), make_links(booking))

    assert mail.attachments == ()
    assert mail.subject == "Herinnering: uw afspraak op dinsdag 30 maart 2027 om 09:00"


def test_cancelled_mail_links_to_new_booking() -> None:
    booking = make_booking(language=Language.FRENCH, sequence=1)
    links = make_links(booking)

    mail = compose_cancelled(booking, make_counter_for(booking), make_topic(), links, now=STAMP)

    assert mail.subject == "Votre rendez-vous du mardi 30 mars 2027 à 09:00 est annulé"
    assert f'href="{links.booking_url}"' in mail.html
    assert links.join_url not in mail.text
    assert mail.dedup_key == "VL-7K3M-Q2:cancelled:1"


# Spring forward: 02:00 becomes 03:00 on 28 March 2027. Fall back: 03:00 becomes 02:00 on 31 October.
@pytest.mark.parametrize(
    ("local_start", "utc_start", "shown"),
    [
        (datetime(2027, 3, 28, 3, 0, tzinfo=BRUSSELS), datetime(2027, 3, 28, 1, 0, tzinfo=UTC), "03:00"),
        (datetime(2027, 10, 31, 2, 30, tzinfo=BRUSSELS), datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "02:30"),
        (
            datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=BRUSSELS),
            datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
            "02:30",
        ),
    ],
)
def test_confirmation_on_daylight_saving_days(local_start: datetime, utc_start: datetime, shown: str) -> None:
    start = local_start.astimezone(UTC)
    assert start == utc_start

    mail = confirmation_for(make_booking(start=start))

    assert f"om {shown} is bevestigd" in mail.subject
    assert f"van {shown} tot" in mail.text
    assert only_event(parse_invite(mail)).decoded("dtstart") == utc_start


def test_fall_back_offset_is_plus_one() -> None:
    local_start = datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=BRUSSELS)

    assert local_start.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("email", ["anna@example.be\r\nBcc: all@example.be", "anna@example.be\nX: 1", "a@b.be\r"])
def test_line_break_in_recipient_raises(email: str) -> None:
    booking = make_booking(personal=make_personal(email=email))

    with pytest.raises(ValueError, match="to contains a line break"):
        confirmation_for(booking)


@pytest.mark.parametrize("value", ["Afspraak\r\nBcc: x@example.be", "Afspraak\nX", "Afspraak\u2028X", "A\x00"])
def test_line_break_in_subject_raises(value: str) -> None:
    with pytest.raises(ValueError, match="subject"):
        require_single_line("subject", value)


def test_error_message_does_not_repeat_value() -> None:
    with pytest.raises(ValueError) as raised:
        require_single_line("to", "anna.peeters@example.be\r\n")

    assert "anna" not in str(raised.value)


def test_unknown_kind_raises() -> None:
    booking = make_booking()

    with pytest.raises(ValueError, match="unknown mail kind"):
        compose("rescheduled-typo", booking, make_counter_for(booking), make_topic(), make_links(booking))


def test_video_confirmation_without_join_link_raises() -> None:
    booking = make_booking()
    links = MailLinks(join_url=None, manage_url="https://example.test/manage", terms_url="https://example.test/terms")

    with pytest.raises(ValueError, match="join_url"):
        confirmation_for(booking, links)


def test_booking_without_personal_data_raises() -> None:
    booking = make_booking().replace(personal=None)

    with pytest.raises(ValueError, match="no personal data"):
        confirmation_for(booking)


def test_counter_of_other_booking_raises() -> None:
    booking = make_booking()

    with pytest.raises(ValueError, match="counter"):
        compose_confirmation(booking, make_office_counter(), make_topic(), make_links(booking))


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://example.test/a\r\nb", "/relative/path", "https://exa mple.test/", "ftp://x.test/"],
)
def test_mail_links_reject_unsafe_urls(url: str) -> None:
    with pytest.raises(ValueError):
        MailLinks(join_url=url, manage_url="https://example.test/m", terms_url="https://example.test/t")


def test_invite_uid_stable_across_sequences() -> None:
    first = only_event(parse_invite(confirmation_for(make_booking(sequence=0))))
    second = only_event(parse_invite(confirmation_for(make_booking(sequence=1))))

    assert str(first["uid"]) == "VL-7K3M-Q2@videoloket.hvw.be"
    assert str(second["uid"]) == str(first["uid"])
    assert first.decoded("sequence") == 0
    assert second.decoded("sequence") == 1


def test_invite_request_fields() -> None:
    booking = make_booking(language=Language.GERMAN)
    links = make_links(booking)

    calendar = parse_invite(confirmation_for(booking, links))
    event = only_event(calendar)

    assert str(calendar["method"]) == "REQUEST"
    assert event.decoded("dtstart") == booking.start
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert event.decoded("dtend") == booking.end
    assert event.decoded("dtstamp") == STAMP
    assert str(event["status"]) == "CONFIRMED"
    assert str(event["summary"]) == "Videotermin mit der HfA"
    assert str(event["location"]) == links.join_url
    assert links.join_url in str(event["description"])
    assert links.manage_url in str(event["description"])
    assert str(event["organizer"]) == "mailto:videoloket@hvw.be"
    assert str(event["attendee"]) == "mailto:anna.peeters@example.be"


def test_invite_times_are_utc_in_file() -> None:
    mail = confirmation_for(make_booking())

    content = mail.attachments[0].content.decode("utf-8")

    assert "DTSTART:20270330T070000Z" in content
    assert "DTEND:20270330T073000Z" in content


def test_invite_summary_has_no_personal_data() -> None:
    event = only_event(parse_invite(confirmation_for(make_booking())))

    assert "Anna" not in str(event["summary"])
    assert "Peeters" not in str(event["summary"])


def test_invite_organizer_is_configurable() -> None:
    booking = make_booking()

    mail = compose_confirmation(
        booking, make_counter_for(booking), make_topic(), make_links(booking), organizer="afspraken@hvw.be"
    )

    assert str(only_event(parse_invite(mail))["organizer"]) == "mailto:afspraken@hvw.be"


def test_office_invite_location_is_address() -> None:
    booking = make_booking(channel=Channel.OFFICE, language=Language.FRENCH)

    event = only_event(parse_invite(confirmation_for(booking)))

    assert str(event["location"]) == "Bureau de Bruxelles, Boulevard du Jardin Botanique 50, 1000 Bruxelles"
    assert "url" not in event


def test_cancel_invite_has_method_and_status() -> None:
    booking = make_booking(sequence=2)

    mail = compose_cancelled(booking, make_counter_for(booking), make_topic(), make_links(booking), now=STAMP)
    calendar = parse_invite(mail)
    event = only_event(calendar)

    assert mail.attachments[0].content_type == "text/calendar; method=CANCEL; charset=utf-8"
    assert str(calendar["method"]) == "CANCEL"
    assert str(event["status"]) == "CANCELLED"
    assert event.decoded("sequence") == 2
    assert str(event["uid"]) == event_uid(booking.reference)


def test_line_break_in_office_address_adds_no_property() -> None:
    counter = make_office_counter()
    address = dict(counter.address, nl="Kruidtuinlaan 50\r\nATTENDEE:mailto:evil@example.test\nX-EVIL:1")
    counter = dataclasses.replace(counter, address=address)
    booking = make_booking(channel=Channel.OFFICE)

    content = build_invite(booking, counter, make_topic(), join_url=None, manage_url="https://example.test/m", now=STAMP)
    event = only_event(Calendar.from_ical(content))

    assert [str(attendee) for attendee in [event["attendee"]]] == ["mailto:anna.peeters@example.be"]
    assert "X-EVIL" not in event
    assert b"\r\nATTENDEE:mailto:evil" not in content
    assert b"\r\nX-EVIL" not in content


@pytest.mark.parametrize("name", ["Uitkering\r\nATTENDEE:mailto:evil@example.test", "Uitkering\nX-EVIL:1", "U\rX"])
def test_line_break_in_topic_name_raises(name: str) -> None:
    topic = make_topic()
    topic = dataclasses.replace(topic, names={**topic.names, "nl": name})
    booking = make_booking()

    with pytest.raises(ValueError, match="topic name"):
        build_invite(booking, make_counter_for(booking), topic, join_url=None, manage_url="https://example.test/m")


def test_line_break_in_office_name_raises() -> None:
    counter = make_office_counter()
    counter = dataclasses.replace(counter, names={**counter.names, "nl": "Kantoor\nX-EVIL:1"})
    booking = make_booking(channel=Channel.OFFICE)

    with pytest.raises(ValueError, match="counter name"):
        build_invite(booking, counter, make_topic(), join_url=None, manage_url="https://example.test/m")


def test_invite_rejects_naive_start() -> None:
    booking = make_booking().replace(start=datetime(2027, 3, 30, 9, 0), end=datetime(2027, 3, 30, 9, 30))

    with pytest.raises(ValueError, match="aware"):
        build_invite(booking, make_counter_for(booking), make_topic(), join_url=None, manage_url="https://example.test/m")


def test_invite_rejects_unknown_method() -> None:
    booking = make_booking()

    with pytest.raises(ValueError, match="iTIP method"):
        build_invite(
            booking, make_counter_for(booking), make_topic(), join_url=None, manage_url="https://x.test/m", method="PUBLISH"
        )
