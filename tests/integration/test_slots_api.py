"""GET /api/slots, /api/postcodes, /api/topics and /api/offices through the app's routes."""

import pytest

from tests import catalogs
from tests.api import call


def slots(**params):
    query = {"channel": "video", "topic": "payments", "postcode": "9000", **params}
    return call("list_slots", params=query)


def test_slots_carry_the_language_and_brussels_offsets(configure):
    response = slots(**{"from": "2027-03-23", "to": "2027-03-23"})

    body = response.json()
    assert response.status == 200
    assert body["language"] == "nl"
    assert body["counter"] == "video"
    assert body["slots"][0] == {"start": "2027-03-23T09:00:00+01:00", "end": "2027-03-23T09:30:00+01:00", "available": 1}
    assert len(body["slots"]) == 6


def test_summer_offset_after_clock_change(configure):
    body = slots(**{"from": "2027-03-30", "to": "2027-03-30"}).json()

    assert body["slots"][0]["start"] == "2027-03-30T09:00:00+02:00"


def test_slots_without_dates_cover_the_horizon(configure):
    body = slots().json()

    days = sorted({slot["start"][:10] for slot in body["slots"]})
    assert days[0] == "2027-03-23"
    assert days[-1] == "2027-04-21"
    assert "2027-03-30" in days
    assert "2027-03-27" not in days  # a Saturday
    assert "2027-03-29" not in days  # Easter Monday


def test_brussels_resident_must_pass_a_language(configure):
    response = slots(postcode="1000")

    assert response.status == 400
    assert response.json()["error"] == "language_required"
    assert slots(postcode="1000", language="fr").json()["language"] == "fr"


def test_facility_language_only_on_request(configure):
    assert slots(postcode="1640").json()["language"] == "nl"
    assert slots(postcode="1640", language="fr").json()["language"] == "fr"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2027-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"channel": "fax"}, "channel"),
        ({"postcode": "12"}, "postcode"),
        ({"unexpected": "1"}, "unexpected"),
        ({"from": "2027-03-25", "to": "2027-03-24"}, "to"),
        ({"from": "2027-03-01", "to": "2027-06-30"}, "to"),
    ],
)
def test_invalid_slot_query_names_the_field(configure, params, field):
    response = slots(**params)

    assert response.status == 400
    assert response.json()["field"] == field


def test_office_slots_need_an_office(configure):
    configure(catalogs.config(counters=[catalogs.video_counter(), catalogs.office()], agents=[catalogs.agent("d1", counter="gent")]))

    assert slots(channel="office").status == 400
    body = slots(channel="office", office="gent", **{"from": "2027-04-05", "to": "2027-04-05"}).json()
    assert body["counter"] == "gent"
    assert len(body["slots"]) == 9


def test_postcode_lookup_gives_languages(configure):
    eupen = call("find_postcode", route={"postcode": "4700"}).json()
    brussels = call("find_postcode", route={"postcode": "1000"}).json()

    assert eupen["languages"] == ["de"]
    assert eupen["facility_language"] == "fr"
    assert eupen["choice_required"] is False
    assert brussels["languages"] == ["nl", "fr"]
    assert brussels["choice_required"] is True


@pytest.mark.parametrize("postcode", ["9999", "abcd", "123"])
def test_unknown_postcode_is_404(configure, postcode):
    response = call("find_postcode", route={"postcode": postcode})

    assert response.status == 404
    assert response.json()["error"] == "unknown_postcode"


def test_topics_and_offices_listed(configure):
    configure(catalogs.config(counters=[catalogs.video_counter(), catalogs.office()]))

    topics = call("list_topics").json()
    offices = call("list_offices").json()

    assert topics == [{"id": "payments", "names": {"nl": "Betalingen", "fr": "Paiements", "de": "Zahlungen"}}]
    assert [office["id"] for office in offices] == ["gent"]
    assert offices[0]["address"]["fr"] == "Voorbeeldstraat 1, 9000 Gand"
