"""One exception family with stable codes. Entry points map the codes to HTTP statuses in one table."""

from __future__ import annotations


class BookingError(Exception):
    """A request the domain rejects. `code` is stable for clients; `message` is an English msgid.

    The msgid is translated into nl, fr and de through the message catalogs before it reaches a citizen,
    with `params` filled in. Messages never contain personal data.
    """

    code = "invalid_request"
    message = "The request is invalid."

    def __init__(
        self, field: str | None = None, message: str | None = None, params: dict | None = None, **more: object
    ) -> None:
        self.field = field
        if message is not None:
            self.message = message
        self.params = {**(params or {}), **more}
        super().__init__(f"{self.code} (field: {field})")


class InvalidField(BookingError):
    code = "invalid_field"


class InvalidBody(BookingError):
    code = "invalid_body"
    message = "The request body is not valid JSON."


class BodyTooLarge(BookingError):
    code = "body_too_large"
    message = "The request body is too large. The maximum is {limit} bytes."


class UnknownPostcode(BookingError):
    code = "unknown_postcode"
    message = "This postal code is not a Belgian postal code. Check the postal code of your residence."


class PostcodeNotFound(UnknownPostcode):
    """The postal-code look-up found nothing: the same message, as a 404."""


class UnknownTopic(BookingError):
    code = "unknown_topic"
    message = "This topic does not exist. Choose one of the topics offered."


class UnknownOffice(BookingError):
    code = "unknown_office"
    message = "This office does not exist. Choose one of the offices offered."


class LanguageRequired(BookingError):
    code = "language_required"
    message = "Your residence allows a choice of language. Choose one of: {choices}."


class LanguageNotAllowed(BookingError):
    code = "language_not_allowed"
    message = "This language cannot be used for your residence. Choose one of: {choices}."


class SlotNotOffered(BookingError):
    code = "slot_not_offered"
    message = "This time is not an appointment slot. Choose a start time from the list of free slots."


class NoAgentForLanguage(SlotNotOffered):
    """The slot exists, but no agent who speaks the conversation language works then."""

    message = "At this time no appointment is possible in the language of your residence. Choose a start time from the list of free slots."


class SlotTaken(BookingError):
    code = "slot_taken"
    message = "This time slot was just taken. Choose another time."


class AlreadyBooked(BookingError):
    code = "already_booked"
    message = (
        "You already have an appointment. Use the link in your confirmation mail to change or cancel it."
    )


class TermsNotAccepted(BookingError):
    code = "terms_not_accepted"
    message = "Accept the current terms of use (version {version}) to book."


class BookingNotFound(BookingError):
    code = "booking_not_found"
    message = "No appointment matches this reference and link. Use the link from your confirmation mail."


class IdempotencyKeyReused(BookingError):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used for another booking request. Use a new key."


class AppointmentStarted(BookingError):
    code = "appointment_started"
    message = (
        "The appointment has already started, so it can no longer be changed online. Contact us by phone."
    )


class AppointmentClosed(BookingError):
    code = "appointment_closed"
    message = "This appointment was cancelled or has ended, so it can no longer be changed."


class AppointmentNotStarted(BookingError):
    code = "appointment_not_started"
    message = "This appointment has not started yet, so it cannot be ended. Cancel or reschedule it instead."


class ConcurrentChange(BookingError):
    code = "concurrent_change"
    message = "This appointment is being changed by someone else at the same time. Try again in a moment."
