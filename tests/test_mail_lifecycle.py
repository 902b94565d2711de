"""Mails about changes after booking (moved, no-show, agency late) and the agency's alert, in nl, fr and de."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from shared.domain.lifecycle import GRACE, Actor, Outcome, apply_ten_minute_rules, end, reschedule
from shared.domain.model import Booking, BookingStatus, Channel, Language
from shared.i18n import is_translated
from shared.mail.alerts import ALERT_KINDS, compose_agent_late_alert, compose_alert
from shared.mail.compose import (
    MAIL_KINDS,
    MailLinks,
    compose,
    compose_agent_late,
    compose_no_show,
    compose_rescheduled,
)
from shared.mail.invite import event_uid
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
from tests.test_mail import TagBalanceChecker

UTC = timezone.utc
STAMP = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LANGUAGES = [Language.DUTCH, Language.FRENCH, Language.GERMAN]
CITIZEN_KINDS = ["rescheduled", "no_show", "agent_late"]
TEAM_ADDRESS = "videoloket-team@hvw.be"
NBSP = "\u00a0"

# The default booking starts at 07:00 UTC on 30 March 2027, which is 09:00 in Brussels (CEST).
EXPECTED_DATES = {
    Language.DUTCH: "dinsdag 30 maart 2027",
    Language.FRENCH: "mardi 30 mars 2027",
    Language.GERMAN: "Dienstag, 30. März 2027",
}

EXPECTED_SUBJECTS = {
    "rescheduled": {
        Language.DUTCH: "Uw afspraak is verplaatst naar dinsdag 30 maart 2027 om 09:00",
        Language.FRENCH: "Votre rendez-vous a été déplacé au mardi 30 mars 2027 à 09:00",
        Language.GERMAN: "Ihr Termin wurde auf Dienstag, 30. März 2027, 09:00 Uhr verschoben",
    },
    "no_show": {
        Language.DUTCH: "Uw afspraak op dinsdag 30 maart 2027 om 09:00 is geannuleerd wegens afwezigheid",
        Language.FRENCH: "Votre rendez-vous du mardi 30 mars 2027 à 09:00 est annulé pour absence",
        Language.GERMAN: "Ihr Termin am Dienstag, 30. März 2027, um 09:00 Uhr ist wegen Nichterscheinens abgesagt",
    },
    "agent_late": {
        Language.DUTCH: "Uw afspraak op dinsdag 30 maart 2027 om 09:00 kon niet doorgaan zoals gepland",
        Language.FRENCH: "Votre rendez-vous du mardi 30 mars 2027 à 09:00 n’a pas pu avoir lieu comme prévu",
        Language.GERMAN: "Ihr Termin am Dienstag, 30. März 2027, um 09:00 Uhr konnte nicht wie geplant stattfinden",
    },
}

# The sentences that carry the purpose of each mail, for a video booking.
KEY_SENTENCES = {
    "rescheduled": {
        Language.DUTCH: [
            "Uw afspraak is verplaatst naar een andere datum of een ander uur.",
            "Gebruik daarom alleen de links in deze e-mail.",
        ],
        Language.FRENCH: [
            "Votre rendez-vous a été déplacé à une autre date ou à une autre heure.",
            f"peuvent ne plus fonctionner{NBSP}: utilisez uniquement les liens de cet e-mail.",
        ],
        Language.GERMAN: [
            "Ihr Termin wurde auf ein anderes Datum oder eine andere Uhrzeit verschoben.",
            "Verwenden Sie daher nur die Links in dieser E-Mail.",
        ],
    },
    "no_show": {
        Language.DUTCH: [
            "Uw afspraak op dinsdag 30 maart 2027 om 09:00 is geannuleerd omdat u niet binnen 10 minuten "
            "na het begin online was.",
            "U kunt een nieuwe afspraak maken.",
        ],
        Language.FRENCH: [
            "Votre rendez-vous du mardi 30 mars 2027 à 09:00 est annulé, car vous n’étiez pas en ligne "
            "dans les 10 minutes suivant le début.",
            "Vous pouvez prendre un nouveau rendez-vous.",
        ],
        Language.GERMAN: [
            "Ihr Termin am Dienstag, 30. März 2027, um 09:00 Uhr ist abgesagt, weil Sie nicht innerhalb "
            "von 10 Minuten nach Beginn online waren.",
            "Sie können einen neuen Termin buchen.",
        ],
    },
    "agent_late": {
        Language.DUTCH: [
            "Wij konden uw afspraak op dinsdag 30 maart 2027 om 09:00 niet op tijd laten beginnen. "
            "Onze excuses daarvoor.",
            "Wij nemen contact met u op om een nieuwe afspraak te maken. U hoeft zelf niets te doen.",
            "Voor de nieuwe afspraak ontvangt u een nieuwe uitnodiging.",
        ],
        Language.FRENCH: [
            "Nous n’avons pas pu commencer à l’heure votre rendez-vous du mardi 30 mars 2027 à 09:00. "
            "Nous vous prions de nous en excuser.",
            "Nous vous contacterons pour fixer un nouveau rendez-vous. Vous n’avez rien à faire.",
            "Vous recevrez une nouvelle invitation pour le nouveau rendez-vous.",
        ],
        Language.GERMAN: [
            "Wir konnten Ihren Termin am Dienstag, 30. März 2027, um 09:00 Uhr nicht rechtzeitig beginnen. "
            "Wir bitten Sie, dies zu entschuldigen.",
            "Wir kontaktieren Sie, um einen neuen Termin zu vereinbaren. Sie müssen nichts unternehmen.",
            "Für den neuen Termin erhalten Sie eine neue Einladung.",
        ],
    },
}

NO_SHOW_AT_OFFICE = {
    Language.DUTCH: "is geannuleerd omdat u niet binnen 10 minuten na het begin op kantoor was.",
    Language.FRENCH: "car vous n’étiez pas au bureau dans les 10 minutes suivant le début.",
    Language.GERMAN: "weil Sie nicht innerhalb von 10 Minuten nach Beginn im Büro waren.",
}

TECHNICAL_PROBLEM_SENTENCES = {
    Language.DUTCH: "Door een technisch probleem kon uw afspraak op dinsdag 30 maart 2027 om 09:00 niet doorgaan",
    Language.FRENCH: "En raison d’un problème technique, votre rendez-vous du mardi 30 mars 2027 à 09:00",
    Language.GERMAN: "Wegen eines technischen Problems konnte Ihr Termin am Dienstag, 30. März 2027, um 09:00 Uhr",
}

JOIN_BUTTON_TEXT = {
    Language.DUTCH: "Deelnemen aan het videogesprek",
    Language.FRENCH: "Rejoindre l’appel vidéo",
    Language.GERMAN: "Am Videogespräch teilnehmen",
}

EXPECTED_ALERT_SUBJECTS = {
    ("agent_late", Language.DUTCH): (
        "Gesprek niet tijdig gestart: afspraak VL-7K3M-Q2 opnieuw inplannen "
        "(Videoloket, dinsdag 30 maart 2027 om 09:00)"
    ),
    ("agent_late", Language.FRENCH): (
        f"Entretien non commencé à temps{NBSP}: rendez-vous VL-7K3M-Q2 à reprogrammer "
        "(Guichet vidéo, mardi 30 mars 2027 à 09:00)"
    ),
    ("agent_late", Language.GERMAN): (
        "Gespräch nicht rechtzeitig begonnen: Termin VL-7K3M-Q2 neu planen "
        "(Videoschalter, Dienstag, 30. März 2027, 09:00 Uhr)"
    ),
    ("technical_problem", Language.DUTCH): (
        "Technisch probleem: afspraak VL-7K3M-Q2 opnieuw inplannen (Videoloket, dinsdag 30 maart 2027 om 09:00)"
    ),
    ("technical_problem", Language.FRENCH): (
        f"Problème technique{NBSP}: rendez-vous VL-7K3M-Q2 à reprogrammer "
        "(Guichet vidéo, mardi 30 mars 2027 à 09:00)"
    ),
    ("technical_problem", Language.GERMAN): (
        "Technisches Problem: Termin VL-7K3M-Q2 neu planen (Videoschalter, Dienstag, 30. März 2027, 09:00 Uhr)"
    ),
}

ALERT_KEY_SENTENCES = {
    Language.DUTCH: "Neem contact op met de burger om een nieuwe afspraak te maken.",
    Language.FRENCH: "Contactez la personne pour fixer un nouveau rendez-vous.",
    Language.GERMAN: "Kontaktieren Sie die Person, um einen neuen Termin zu vereinbaren.",
}


def booking_for(kind: str, **changes) -> Booking:
    """Return the booking as the domain leaves it for `kind`, with its status and reason set."""
    booking = make_booking(**changes)
    if kind == "no_show":
        return booking.replace(status=BookingStatus.CANCELLED, status_reason="no_show_client")
    if kind == "agent_late":
        return booking.replace(status=BookingStatus.TO_RESCHEDULE, status_reason="agent_late")
    return booking


def citizen_mail(kind: str, booking: Booking, links: MailLinks | None = None) -> OutgoingMail:
    return compose(
        kind, booking, make_counter_for(booking), make_topic(), links or make_links(booking), now=STAMP
    )


def alert_for(booking: Booking, **options) -> OutgoingMail:
    return compose_agent_late_alert(booking, make_counter_for(booking), make_topic(), to=TEAM_ADDRESS, **options)


def parse_invite(mail: OutgoingMail) -> Calendar:
    (attachment,) = mail.attachments
    return Calendar.from_ical(attachment.content)


def only_event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def assert_well_formed(html: str, language: Language) -> None:
    checker = TagBalanceChecker()
    checker.feed(html)
    checker.close()
    assert checker.problems == []
    assert checker.open == []
    assert checker.html_lang == language.value


# --- subjects ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_subject_is_translated(kind: str, language: Language) -> None:
    mail = citizen_mail(kind, booking_for(kind, language=language))

    assert mail.subject == EXPECTED_SUBJECTS[kind][language]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", [*CITIZEN_KINDS, *ALERT_KINDS])
def test_subject_msgid_in_every_catalog(kind: str, language: Language) -> None:
    mail_kind = MAIL_KINDS.get(kind) or ALERT_KINDS[kind]

    assert is_translated(mail_kind.subject, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_subject_has_no_personal_data(kind: str, language: Language) -> None:
    personal = make_personal()

    mail = citizen_mail(kind, booking_for(kind, language=language, personal=personal))

    for value in (personal.first_name, personal.last_name, personal.email, personal.phone, NATIONAL_NUMBER):
        assert value not in mail.subject


# --- date, time and key sentences --------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_body_shows_brussels_date_and_time(kind: str, language: Language) -> None:
    mail = citizen_mail(kind, booking_for(kind, language=language))

    for part in (mail.text, mail.html):
        assert EXPECTED_DATES[language] in part
        assert "09:00" in part
        assert "09:30" in part
        assert "07:00" not in part


@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_winter_start_shown_one_hour_after_utc(kind: str) -> None:
    # 12 January 2027 is in winter time, so Brussels is UTC+1.
    booking = booking_for(kind, start=datetime(2027, 1, 12, 8, 0, tzinfo=UTC))

    mail = citizen_mail(kind, booking)

    assert "dinsdag 12 januari 2027" in mail.subject
    assert "09:00" in mail.subject
    assert "van 09:00 tot 09:30" in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_key_sentences_present(kind: str, language: Language) -> None:
    mail = citizen_mail(kind, booking_for(kind, language=language))

    for sentence in KEY_SENTENCES[kind][language]:
        assert sentence in mail.text, sentence
        assert sentence in mail.html, sentence


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_html_well_formed_and_greets_citizen(kind: str, language: Language) -> None:
    mail = citizen_mail(kind, booking_for(kind, language=language))

    assert_well_formed(mail.html, language)
    assert "Anna Peeters," in mail.text
    assert "Anna Peeters," in mail.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_show_at_office_names_office(language: Language) -> None:
    booking = booking_for("no_show", channel=Channel.OFFICE, language=language)

    mail = citizen_mail("no_show", booking)

    assert NO_SHOW_AT_OFFICE[language] in mail.text
    assert NO_SHOW_AT_OFFICE[language] in mail.html
    assert KEY_SENTENCES["no_show"][language][0] not in mail.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_agent_late_after_technical_problem(language: Language) -> None:
    booking = booking_for("agent_late", language=language).replace(status_reason="technical_problem")

    mail = citizen_mail("agent_late", booking)

    assert TECHNICAL_PROBLEM_SENTENCES[language] in mail.text
    assert TECHNICAL_PROBLEM_SENTENCES[language] in mail.html
    assert KEY_SENTENCES["agent_late"][language][0] not in mail.text
    assert KEY_SENTENCES["agent_late"][language][1] in mail.text


# --- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_rescheduled_video_has_join_link(language: Language) -> None:
    booking = make_booking(language=language, sequence=1)
    links = make_links(booking)

    mail = compose_rescheduled(booking, make_counter_for(booking), make_topic(), links, now=STAMP)

    assert links.join_url in mail.text
    assert f'href="{links.join_url}"' in mail.html
    assert JOIN_BUTTON_TEXT[language] in mail.html
    assert links.manage_url in mail.text
    assert links.terms_url in mail.text


def test_rescheduled_office_has_address_not_join_link() -> None:
    booking = make_booking(channel=Channel.OFFICE, language=Language.FRENCH, sequence=1)

    mail = citizen_mail("rescheduled", booking)

    for line in make_office_counter().address["fr"].split("\n"):
        assert line in mail.text
    assert "/api/join/" not in mail.text
    assert "/api/join/" not in mail.html
    assert "Soyez au bureau à l’heure du début." in mail.text


def test_rescheduled_video_without_join_link_raises() -> None:
    booking = make_booking(sequence=1)
    links = MailLinks(join_url=None, manage_url="https://example.test/manage", terms_url="https://example.test/terms")

    with pytest.raises(ValueError, match="join_url"):
        compose_rescheduled(booking, make_counter_for(booking), make_topic(), links)


def test_no_show_links_to_new_booking() -> None:
    booking = booking_for("no_show", language=Language.GERMAN)
    links = make_links(booking)

    mail = compose_no_show(booking, make_counter_for(booking), make_topic(), links, now=STAMP)

    assert f'href="{links.booking_url}"' in mail.html
    assert links.booking_url in mail.text
    assert links.join_url not in mail.text
    assert links.join_url not in mail.html


def test_no_show_without_booking_url_has_no_link() -> None:
    booking = booking_for("no_show")
    links = MailLinks(
        join_url="https://example.test/api/join/x",
        manage_url="https://example.test/m",
        terms_url="https://example.test/t",
    )

    mail = citizen_mail("no_show", booking, links)

    assert "Een nieuwe afspraak maken" not in mail.text
    assert "<a " not in mail.html
    assert "U kunt een nieuwe afspraak maken." in mail.text


def test_agent_late_has_no_join_or_manage_link() -> None:
    booking = booking_for("agent_late")
    links = make_links(booking)

    mail = compose_agent_late(booking, make_counter_for(booking), make_topic(), links, now=STAMP)

    for part in (mail.text, mail.html):
        assert links.join_url not in part
        assert links.manage_url not in part
        assert links.booking_url not in part


# --- invitations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "method", "status"),
    [
        ("rescheduled", "REQUEST", "CONFIRMED"),
        ("no_show", "CANCEL", "CANCELLED"),
        ("agent_late", "CANCEL", "CANCELLED"),
    ],
)
def test_invite_method_uid_and_sequence(kind: str, method: str, status: str) -> None:
    booking = booking_for(kind, sequence=3)

    mail = citizen_mail(kind, booking)
    calendar = parse_invite(mail)
    event = only_event(calendar)

    assert mail.attachments[0].content_type == f"text/calendar; method={method}; charset=utf-8"
    assert str(calendar["method"]) == method
    assert str(event["status"]) == status
    assert str(event["uid"]) == event_uid(booking.reference)
    assert event.decoded("sequence") == 3
    assert event.decoded("dtstart") == booking.start


@pytest.mark.parametrize("kind", CITIZEN_KINDS)
def test_dedup_key_has_kind_and_sequence(kind: str) -> None:
    mail = citizen_mail(kind, booking_for(kind, sequence=4))

    assert mail.dedup_key == f"VL-7K3M-Q2:{kind}:4"


@pytest.mark.parametrize("language", LANGUAGES)
def test_rescheduled_after_domain_move(language: Language) -> None:
    booking = make_booking(language=language)
    new_start = booking.start + timedelta(days=1, hours=2)
    moved = reschedule(booking, new_start, new_start + timedelta(minutes=30), "agent-2", STAMP, Actor.CLIENT)
    links = make_links(moved.booking)

    mail = citizen_mail(moved.mail, moved.booking, links)
    event = only_event(parse_invite(mail))

    assert moved.mail == "rescheduled"
    assert event.decoded("sequence") == 1
    assert str(event["uid"]) == event_uid(booking.reference)
    assert event.decoded("dtstart") == new_start
    assert "11:00" in mail.subject
    assert links.join_url in mail.text
    assert mail.dedup_key == "VL-7K3M-Q2:rescheduled:1"


def test_ten_minute_rules_name_existing_kinds() -> None:
    booking = make_booking()
    after_grace = booking.start + GRACE
    agent_present = booking.replace(agent_seen_at=booking.start)

    late = apply_ten_minute_rules(booking, after_grace)
    no_show = apply_ten_minute_rules(agent_present, after_grace)
    ended = end(agent_present, Outcome.TECHNICAL_PROBLEM, booking.start + timedelta(minutes=5), "agent-1")

    assert late is not None and no_show is not None
    for transition in (late, no_show, ended):
        mail = citizen_mail(transition.mail, transition.booking)
        assert only_event(parse_invite(mail)).decoded("sequence") == transition.booking.sequence
    assert late.mail == "agent_late"
    assert no_show.mail == "no_show"
    assert ended.mail == "agent_late"


def test_compose_rejects_alert_kind() -> None:
    booking = booking_for("agent_late")

    with pytest.raises(ValueError, match="unknown mail kind"):
        citizen_mail("agency_alert_agent_late", booking)


# --- the agency's alert ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", ["agent_late", "technical_problem"])
def test_alert_subject_names_booking_and_reason(reason: str, language: Language) -> None:
    booking = booking_for("agent_late", language=language).replace(status_reason=reason)

    mail = alert_for(booking)

    assert mail.subject == EXPECTED_ALERT_SUBJECTS[(reason, language)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_alert_goes_to_team_without_personal_data(language: Language) -> None:
    personal = make_personal()
    booking = booking_for("agent_late", language=language, personal=personal)

    mail = alert_for(booking)

    assert mail.to == TEAM_ADDRESS
    assert mail.attachments == ()
    for part in (mail.subject, mail.text, mail.html, mail.dedup_key):
        for value in (personal.first_name, personal.last_name, personal.email, personal.phone, NATIONAL_NUMBER):
            assert value not in part


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", ["agent_late", "technical_problem"])
def test_alert_body_names_booking_and_reason(reason: str, language: Language) -> None:
    booking = booking_for("agent_late", language=language).replace(status_reason=reason)

    mail = alert_for(booking)

    for part in (mail.text, mail.html):
        assert "VL-7K3M-Q2" in part
        assert make_counter_for(booking).names[language] in part
        assert EXPECTED_DATES[language] in part
        assert "09:00" in part
        assert f"({reason})" in part
        assert ALERT_KEY_SENTENCES[language] in part
    assert_well_formed(mail.html, language)


def test_alert_footer_is_not_the_citizen_footer() -> None:
    mail = alert_for(booking_for("agent_late"))

    assert "met dit e-mailadres een afspraak is gemaakt" not in mail.text
    assert "wanneer een afspraak opnieuw moet worden ingepland" in mail.text
    assert "wanneer een afspraak opnieuw moet worden ingepland" in mail.html


def test_alert_language_overrides_booking_language() -> None:
    booking = booking_for("agent_late", language=Language.GERMAN)

    mail = alert_for(booking, language="fr")

    assert mail.subject == EXPECTED_ALERT_SUBJECTS[("agent_late", Language.FRENCH)]
    assert 'lang="fr"' in mail.html


def test_alert_dedup_key_has_kind_and_sequence() -> None:
    booking = booking_for("agent_late", sequence=2)

    mail = compose_alert("agency_alert_agent_late", booking, make_counter_for(booking), make_topic(), to=TEAM_ADDRESS)

    assert mail.dedup_key == "VL-7K3M-Q2:agency_alert_agent_late:2"


def test_alert_works_without_personal_data() -> None:
    booking = booking_for("agent_late").replace(personal=None)

    mail = alert_for(booking)

    assert mail.to == TEAM_ADDRESS


@pytest.mark.parametrize("status_reason", [None, "no_show_client", "cancelled_by_client"])
def test_alert_for_other_reason_raises(status_reason: str | None) -> None:
    booking = booking_for("agent_late").replace(status_reason=status_reason)

    with pytest.raises(ValueError, match="status_reason"):
        alert_for(booking)


@pytest.mark.parametrize("to", ["team@hvw.be\r\nBcc: all@example.be", "team@hvw.be\n", "Team <team@hvw.be>", "team"])
def test_alert_rejects_invalid_team_address(to: str) -> None:
    booking = booking_for("agent_late")

    with pytest.raises(ValueError, match="to "):
        compose_agent_late_alert(booking, make_counter_for(booking), make_topic(), to=to)


def test_alert_unknown_kind_raises() -> None:
    booking = booking_for("agent_late")

    with pytest.raises(ValueError, match="unknown alert kind"):
        compose_alert("agent_late", booking, make_counter_for(booking), make_topic(), to=TEAM_ADDRESS)


def test_alert_counter_of_other_booking_raises() -> None:
    booking = booking_for("agent_late")

    with pytest.raises(ValueError, match="counter"):
        compose_agent_late_alert(booking, make_office_counter(), make_topic(), to=TEAM_ADDRESS)
