"""The local outbox mailer: real .eml files in a temporary directory, parsed back with the email package."""

from __future__ import annotations

import asyncio
import dataclasses
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from icalendar import Calendar

from shared.adapters.outbox import STAND_IN_HEADER, OutboxMailer, outbox_filename
from shared.domain.model import Language
from shared.mail.compose import compose_confirmation
from shared.ports import Mailer, OutgoingMail
from tests.factories import NATIONAL_NUMBER, make_booking, make_counter_for, make_links, make_personal, make_topic


def confirmation_mail(**booking_changes) -> OutgoingMail:
    booking = make_booking(**booking_changes)
    return compose_confirmation(booking, make_counter_for(booking), make_topic(), make_links(booking))


def send(mailer: OutboxMailer, mail: OutgoingMail) -> None:
    asyncio.run(mailer.send(mail))


def eml_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.eml"))


def read_message(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=default)  # type: ignore[return-value]


def test_outbox_implements_mailer_protocol(tmp_path: Path) -> None:
    mailer: Mailer = OutboxMailer(tmp_path)

    assert callable(mailer.send)


def test_eml_has_text_html_and_calendar(tmp_path: Path) -> None:
    mail = confirmation_mail()

    send(OutboxMailer(tmp_path, sender="noreply@hvw.be"), mail)
    (path,) = eml_files(tmp_path)
    message = read_message(path)

    assert message.get_content_type() == "multipart/mixed"
    assert message["From"] == "noreply@hvw.be"
    assert message["To"] == mail.to
    assert message["Subject"] == mail.subject
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@hvw.be>")
    assert message[STAND_IN_HEADER].startswith("local outbox")

    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    # The file uses CRLF line endings, as RFC 5322 requires.
    assert text.get_content().replace("\r\n", "\n") == mail.text
    assert html.get_content().replace("\r\n", "\n") == mail.html
    assert message.get_body(preferencelist=("related", "html", "plain")).get_content_type() == "text/html"

    (calendar_part,) = list(message.iter_attachments())
    assert calendar_part.get_content_type() == "text/calendar"
    assert calendar_part.get_param("method") == "REQUEST"
    assert calendar_part.get_content_charset() == "utf-8"
    assert calendar_part.get_filename() == "invite.ics"
    calendar = Calendar.from_ical(calendar_part.get_content())
    assert str(calendar["method"]) == "REQUEST"


def test_eml_text_and_html_are_alternatives(tmp_path: Path) -> None:
    send(OutboxMailer(tmp_path), confirmation_mail())

    message = read_message(eml_files(tmp_path)[0])
    alternative = next(part for part in message.iter_parts() if part.get_content_type() == "multipart/alternative")

    assert [part.get_content_type() for part in alternative.iter_parts()] == ["text/plain", "text/html"]


def test_eml_keeps_non_ascii_subject(tmp_path: Path) -> None:
    mail = confirmation_mail(language=Language.GERMAN)

    send(OutboxMailer(tmp_path), mail)

    assert read_message(eml_files(tmp_path)[0])["Subject"] == "Ihr Termin am Dienstag, 30. März 2027, um 09:00 Uhr ist bestätigt"


def test_same_dedup_key_writes_one_file(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)
    mail = confirmation_mail()
    send(mailer, mail)
    (path,) = eml_files(tmp_path)
    first_content = path.read_bytes()

    send(mailer, mail)
    send(mailer, dataclasses.replace(mail, subject="Another subject"))

    assert eml_files(tmp_path) == [path]
    assert path.read_bytes() == first_content


def test_new_sequence_writes_second_file(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path)

    send(mailer, confirmation_mail(sequence=0))
    send(mailer, confirmation_mail(sequence=1))

    assert len(eml_files(tmp_path)) == 2


def test_no_temporary_files_left(tmp_path: Path) -> None:
    send(OutboxMailer(tmp_path), confirmation_mail())

    assert [path.name for path in tmp_path.iterdir() if not path.name.endswith(".eml")] == []


def test_creates_missing_directory(tmp_path: Path) -> None:
    directory = tmp_path / "nested" / "outbox"

    send(OutboxMailer(directory), confirmation_mail())

    assert len(eml_files(directory)) == 1


def test_file_name_has_no_personal_data(tmp_path: Path) -> None:
    personal = make_personal()
    mail = confirmation_mail(personal=personal)

    send(OutboxMailer(tmp_path), mail)
    (path,) = eml_files(tmp_path)

    assert path.name == outbox_filename(mail.dedup_key)
    assert path.name.startswith("VL-7K3M-Q2_confirmation_0-")
    for value in (personal.first_name, personal.last_name, personal.email, personal.phone, NATIONAL_NUMBER):
        assert value.lower() not in path.name.lower()


def test_file_names_differ_for_similar_keys() -> None:
    assert outbox_filename("A:confirmation:0") != outbox_filename("A_confirmation_0")
    assert outbox_filename("../../etc/passwd").startswith("etc_passwd-")
    assert "/" not in outbox_filename("a/b\\c")


def test_line_break_in_subject_writes_nothing(tmp_path: Path) -> None:
    mail = dataclasses.replace(confirmation_mail(), subject="Afspraak\r\nBcc: all@example.be")

    with pytest.raises(ValueError, match="subject"):
        send(OutboxMailer(tmp_path), mail)

    assert list(tmp_path.iterdir()) == []


def test_line_break_in_recipient_writes_nothing(tmp_path: Path) -> None:
    mail = dataclasses.replace(confirmation_mail(), to="anna@example.be\nBcc: all@example.be")

    with pytest.raises(ValueError, match="to"):
        send(OutboxMailer(tmp_path), mail)

    assert list(tmp_path.iterdir()) == []
