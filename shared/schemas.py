"""The public API's request and response bodies, validated with pydantic.

Each validation failure carries an English msgid that the entry point translates into nl, fr and de.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.domain.calendar import BRUSSELS, exists_in_brussels, has_brussels_offset
from shared.domain.lifecycle import Outcome
from shared.domain.model import Channel, Language
from shared.msgids import N_

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"

INVALID_CHARACTERS = N_("This value contains characters that are not allowed.")
INVALID_NATIONAL_NUMBER = N_("This national number is not valid. Check the 11 digits on your identity card.")
INVALID_EMAIL = N_("This e-mail address is not valid. Check it and try again.")
INVALID_PHONE = N_("This phone number is not valid. Give a Belgian number or an international number starting with +.")
INVALID_START = N_(
    "This time is not valid. Give a date and time with the Brussels offset, for example 2027-03-30T09:00:00+02:00."
)
START_IN_GAP = N_("This time does not exist in Brussels because of the change to summer time. Choose another time.")


def _fail(code: str, msgid: str) -> PydanticCustomError:
    return PydanticCustomError(code, msgid)


def _plain_text(value: str) -> str:
    value = value.strip()
    if _CONTROL.search(value) or "<" in value or ">" in value:
        raise _fail("invalid_characters", INVALID_CHARACTERS)
    return value


def _national_number(value: str) -> str:
    from stdnum.be import ssn
    from stdnum.exceptions import ValidationError

    try:
        return ssn.validate(value)
    except ValidationError:
        raise _fail("invalid_national_number", INVALID_NATIONAL_NUMBER) from None


def _email(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise _fail("invalid_email", INVALID_EMAIL) from None


def _phone(value: str) -> str:
    import phonenumbers

    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException:
        raise _fail("invalid_phone", INVALID_PHONE) from None
    if not phonenumbers.is_valid_number(number):
        raise _fail("invalid_phone", INVALID_PHONE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _brussels_start(value: datetime) -> datetime:
    """Accept a Brussels wall-clock time with its real offset, or without offset; return UTC."""
    if value.tzinfo is None:
        if not exists_in_brussels(value):
            raise _fail("start_in_gap", START_IN_GAP)
        value = value.replace(tzinfo=BRUSSELS)
    elif not has_brussels_offset(value):
        raise _fail("invalid_start", INVALID_START)
    if value.second or value.microsecond:
        raise _fail("invalid_start", INVALID_START)
    return value.astimezone(BRUSSELS)


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_plain_text)]
Postcode = Annotated[str, Field(pattern=r"^\d{4}$")]
Identifier = Annotated[str, Field(pattern=_ID)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=320)


class BookingBody(_Request):
    """POST /api/bookings."""

    channel: Channel = Field(description="video or office")
    topic: Identifier
    office: Identifier | None = Field(default=None, description="The office id; only for channel office.")
    start: Annotated[datetime, AfterValidator(_brussels_start)]
    postcode: Postcode
    language: Language | None = Field(
        default=None, description="Only where the residence allows a choice: Brussels, or a facility language."
    )
    first_name: Name
    last_name: Name
    email: Annotated[str, Field(max_length=254), AfterValidator(_email)]
    phone: Annotated[str, Field(max_length=32), AfterValidator(_phone)]
    national_number: Annotated[str, Field(max_length=20), AfterValidator(_national_number)]
    accepted_terms_version: Annotated[str, Field(min_length=1, max_length=40)]

    @model_validator(mode="after")
    def _office_matches_channel(self) -> "BookingBody":
        if self.channel is Channel.OFFICE and self.office is None:
            raise _fail("office_required", N_("This field is required."))
        if self.channel is Channel.VIDEO and self.office is not None:
            raise _fail("office_not_allowed", N_("This field is not allowed: {field}."))
        return self


class SlotsParams(_Request):
    """GET /api/slots query parameters."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    channel: Channel
    topic: Identifier
    postcode: Postcode
    language: Language | None = None
    office: Identifier | None = None
    first_day: date | None = Field(default=None, alias="from")
    last_day: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _office_matches_channel(self) -> "SlotsParams":
        if self.channel is Channel.OFFICE and self.office is None:
            raise _fail("office_required", N_("This field is required."))
        return self


class SlotOut(BaseModel):
    start: str = Field(description="ISO 8601 with the Brussels offset")
    end: str
    available: int = Field(description="Free seats in this slot for the conversation language")


class SlotsOut(BaseModel):
    counter: str
    channel: Channel
    language: Language
    slots: list[SlotOut]


class BookingOut(BaseModel):
    reference: str
    status: str
    channel: Channel
    start: str
    end: str
    language: Language
    manage_token: str


class BookingSummaryOut(BaseModel):
    reference: str
    status: str
    status_reason: str | None
    provisioning: str
    channel: Channel
    counter: str
    topic: str
    start: str
    end: str
    language: Language
    first_name: str
    last_name: str
    email: str
    phone: str


class PostcodeOut(BaseModel):
    postcode: str
    municipality: dict[str, str]
    languages: list[Language]
    facility_language: Language | None
    choice_required: bool


class TopicOut(BaseModel):
    id: str
    names: dict[str, str]


class OfficeOut(BaseModel):
    id: str
    names: dict[str, str]
    address: dict[str, str]


class ErrorOut(BaseModel):
    error: str
    field: str | None
    message: str
    messages: dict[str, str]


# --- the appointment lifecycle ------------------------------------------------------------------


class AgencyReason(StrEnum):
    TECHNICAL_PROBLEM = "technical_problem"
    AGENT_ABSENT = "agent_absent"
    AGENT_LATE = "agent_late"
    CLIENT_REQUEST = "client_request"
    OTHER = "other"


class AgentSignal(StrEnum):
    AGENT_JOINED = "agent_joined"
    CLIENT_PRESENT = "client_present"
    IDENTITY_VERIFIED = "identity_verified"


AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$", description="The agent's id or object id")]
Start = Annotated[datetime, AfterValidator(_brussels_start)]


class RescheduleBody(_Request):
    """POST /api/bookings/{reference}/reschedule (client, with the manage token)."""

    start: Start


class SignalBody(_Request):
    """POST /api/appointments/{reference}/signals (agent tools, Power Automate)."""

    signal: AgentSignal
    agent_id: AgentId | None = None


class EndBody(_Request):
    """POST /api/appointments/{reference}/end."""

    outcome: Outcome
    agent_id: AgentId | None = None


class AgencyCancelBody(_Request):
    """POST /api/appointments/{reference}/cancel."""

    reason: AgencyReason
    agent_id: AgentId | None = None


class AgencyRescheduleBody(_Request):
    """POST /api/appointments/{reference}/reschedule."""

    start: Start
    reason: AgencyReason
    agent_id: AgentId | None = None


class AgendaParams(_Request):
    """GET /api/agenda query parameters."""

    day: date = Field(alias="date")
    counter: Identifier

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SignalsOut(BaseModel):
    client_seen_at: str | None
    agent_seen_at: str | None
    identity_verified_at: str | None


class ClientOut(BaseModel):
    first_name: str
    last_name: str
    email: str | None = Field(default=None, description="Only while the agency must contact the client")
    phone: str | None = Field(default=None, description="Only while the agency must contact the client")


class AgendaItemOut(BaseModel):
    reference: str
    start: str
    end: str
    status: str
    status_reason: str | None
    outcome: str | None
    channel: Channel
    language: Language
    topic: str
    agent: str
    provisioning: str
    signals: SignalsOut
    client: ClientOut | None


class AgendaOut(BaseModel):
    counter: str
    date: date
    appointments: list[AgendaItemOut]


class AppointmentOut(BaseModel):
    reference: str
    status: str
    status_reason: str | None
    outcome: str | None
    start: str
    end: str
    sequence: int
    signals: SignalsOut
