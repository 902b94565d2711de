"""The slot grid: daylight-saving days, holidays, closure days, lead time, horizon and capacity."""

from datetime import date, datetime, timezone

from shared.domain.calendar import BRUSSELS
from shared.domain.model import Language
from shared.domain.slots import agents_for, is_offered, offered_slots, slot_starts
from tests import catalogs

SUNDAY_NIGHT = {"sun": ["01:00-04:00"]}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def brussels_times(starts: list[datetime]) -> list[str]:
    return [s.astimezone(BRUSSELS).isoformat() for s in starts]


def test_spring_forward_gap_has_no_slot():
    counter = catalogs.video_counter(hours=SUNDAY_NIGHT).to_domain()

    starts = slot_starts(counter, date(2027, 3, 28))

    assert brussels_times(starts) == [
        "2027-03-28T01:00:00+01:00",
        "2027-03-28T01:30:00+01:00",
        "2027-03-28T03:00:00+02:00",
        "2027-03-28T03:30:00+02:00",
    ]


def test_fall_back_day_offers_the_repeated_hour_twice():
    counter = catalogs.video_counter(hours=SUNDAY_NIGHT).to_domain()

    starts = slot_starts(counter, date(2027, 10, 31))

    assert brussels_times(starts) == [
        "2027-10-31T01:00:00+02:00",
        "2027-10-31T01:30:00+02:00",
        "2027-10-31T02:00:00+02:00",
        "2027-10-31T02:30:00+02:00",
        "2027-10-31T02:00:00+01:00",
        "2027-10-31T02:30:00+01:00",
        "2027-10-31T03:00:00+01:00",
        "2027-10-31T03:30:00+01:00",
    ]
    assert len(set(starts)) == 8


def test_fall_back_slots_are_bookable_with_either_offset():
    catalog = catalogs.catalog(counters=[catalogs.video_counter(hours=SUNDAY_NIGHT)])
    counter = catalog.counters["video"]
    now = local("2027-10-20T09:00:00+02:00")

    assert is_offered(catalog, counter, local("2027-10-31T02:30:00+02:00"), now)
    assert is_offered(catalog, counter, local("2027-10-31T02:30:00+01:00"), now)


def test_federal_holiday_has_no_slots():
    catalog = catalogs.catalog()
    now = local("2027-11-01T09:00:00+01:00")

    # 11 November 2027 (Armistice) is a Thursday.
    slots = offered_slots(catalog, catalog.counters["video"], Language.DUTCH, date(2027, 11, 11), date(2027, 11, 11), now, set())

    assert slots == []


def test_closure_day_of_the_agency_has_no_slots():
    catalog = catalogs.catalog(closed_on=["2027-11-15"])
    now = local("2027-11-01T09:00:00+01:00")

    slots = offered_slots(catalog, catalog.counters["video"], Language.DUTCH, date(2027, 11, 15), date(2027, 11, 16), now, set())

    assert {s.start.astimezone(BRUSSELS).date() for s in slots} == {date(2027, 11, 16)}


def test_counter_closure_day():
    catalog = catalogs.catalog(counters=[catalogs.video_counter(closed_on=["2027-11-16"])])
    counter = catalog.counters["video"]
    now = local("2027-11-01T09:00:00+01:00")

    assert not is_offered(catalog, counter, local("2027-11-16T09:00:00+01:00"), now)
    assert is_offered(catalog, counter, local("2027-11-17T09:00:00+01:00"), now)


def test_lead_time_hides_slots_that_start_too_soon():
    catalog = catalogs.catalog(min_lead_minutes=120)
    counter = catalog.counters["video"]
    now = local("2027-03-30T08:00:00+02:00")

    slots = offered_slots(catalog, counter, Language.DUTCH, date(2027, 3, 30), date(2027, 3, 30), now, set())

    assert brussels_times([s.start for s in slots])[0] == "2027-03-30T10:00:00+02:00"
    assert not is_offered(catalog, counter, local("2027-03-30T09:30:00+02:00"), now)
    assert is_offered(catalog, counter, local("2027-03-30T10:00:00+02:00"), now)


def test_horizon_hides_slots_too_far_ahead():
    catalog = catalogs.catalog(horizon_days=7)
    counter = catalog.counters["video"]
    now = local("2027-03-30T09:00:00+02:00")

    assert is_offered(catalog, counter, local("2027-04-06T09:00:00+02:00"), now)
    assert not is_offered(catalog, counter, local("2027-04-06T09:30:00+02:00"), now)


def test_start_off_the_grid_is_not_offered():
    catalog = catalogs.catalog()
    now = local("2027-03-20T09:00:00+01:00")

    assert not is_offered(catalog, catalog.counters["video"], local("2027-03-30T09:10:00+02:00"), now)
    assert not is_offered(catalog, catalog.counters["video"], local("2027-03-30T12:00:00+02:00"), now)


def test_capacity_by_schedule_and_language():
    catalog = catalogs.catalog(
        agents=[
            catalogs.agent("an", ("nl", "fr")),
            catalogs.agent("bart", ("nl",)),
            catalogs.agent("claire", ("fr", "de")),
            catalogs.agent("dirk", ("nl",), schedule={"tue": ["13:00-16:00"]}),
            catalogs.agent("eva", ("nl",), absent_on=["2027-03-30"]),
        ]
    )
    counter = catalog.counters["video"]
    now = local("2027-03-20T09:00:00+01:00")

    slots = offered_slots(catalog, counter, Language.DUTCH, date(2027, 3, 30), date(2027, 3, 30), now, set())
    german = agents_for(catalog, counter, Language.GERMAN, local("2027-03-30T09:00:00+02:00"))

    assert {s.available for s in slots} == {2}
    assert [a.id for a in german] == ["claire"]


def test_taken_seats_lower_capacity_and_full_slots_disappear():
    catalog = catalogs.catalog(agents=[catalogs.agent("an"), catalogs.agent("bart")])
    counter = catalog.counters["video"]
    now = local("2027-03-20T09:00:00+01:00")
    nine, half_past = local("2027-03-30T09:00:00+02:00"), local("2027-03-30T09:30:00+02:00")
    taken = {(nine, "an"), (nine, "bart"), (half_past, "an")}

    slots = offered_slots(catalog, counter, Language.DUTCH, date(2027, 3, 30), date(2027, 3, 30), now, taken)
    by_start = {s.start: s.available for s in slots}

    assert nine not in by_start
    assert by_start[half_past] == 1
