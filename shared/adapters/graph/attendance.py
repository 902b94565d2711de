"""Attendance reports of Teams meetings through Microsoft Graph v1.0, for the audit trail.

GET /users/{organizer}/onlineMeetings/{meetingId}/attendanceReports lists one report per meeting
session; each report's attendanceRecords list who attended and when. Graph creates a report only
after a session ends, and lists at most the 50 most recent reports (Graph v1.0 reference,
"List meetingAttendanceReports"). The permission is OnlineMeetingArtifact.Read.All, with the same
application access policy as the meetings.

Only identity ids, times and durations leave this module. Names and mail addresses stay in
the Graph response.
"""

from __future__ import annotations

import logging

from shared.adapters.graph.client import GraphApi, GraphResponse
from shared.adapters.graph.subscriptions import route_of_url
from shared.services.call_events import AttendanceRecord, parse_time

logger = logging.getLogger(__name__)

# Pages of one list to follow before giving up.
_MAX_PAGES = 20


class GraphAttendanceReports:
    def __init__(self, api: GraphApi) -> None:
        self._api = api

    async def records(self, organizer: str, meeting_id: str) -> tuple[int, list[AttendanceRecord]]:
        """Return the number of reports of a meeting and the attendance records of all of them.

        Raises GraphError; status 404 when the meeting no longer exists.
        """
        reports = await self._all(
            "listAttendanceReports",
            lambda graph: graph.users.by_user_id(organizer).online_meetings.by_online_meeting_id(
                meeting_id).attendance_reports,
        )
        records: list[AttendanceRecord] = []
        for report in reports:
            report_id = report.get("id")
            if not isinstance(report_id, str) or not report_id:
                continue
            items = await self._all(
                "listAttendanceRecords",
                lambda graph, report_id=report_id: graph.users.by_user_id(organizer).online_meetings.by_online_meeting_id(
                    meeting_id).attendance_reports.by_meeting_attendance_report_id(report_id).attendance_records,
            )
            records.extend(_record(item) for item in items)
        return len(reports), records

    async def _all(self, operation: str, locate) -> list[dict]:
        """Return the items of every page of a list, following @odata.nextLink."""
        items: list[dict] = []
        for _ in range(_MAX_PAGES):
            page = _document(await self._api.request(operation, "GET", locate))
            items.extend(item for item in page.get("value") or [] if isinstance(item, dict))
            next_link = page.get("@odata.nextLink")
            if not isinstance(next_link, str) or not next_link:
                return items
            locate = lambda graph, url=next_link: route_of_url(url)  # noqa: E731
        logger.warning("%s: stopped after %d pages", operation, _MAX_PAGES)
        return items


def _record(item: dict) -> AttendanceRecord:
    identity = item.get("identity") if isinstance(item.get("identity"), dict) else {}
    intervals = [i for i in item.get("attendanceIntervals") or [] if isinstance(i, dict)]
    joins = [moment for moment in (parse_time(i.get("joinDateTime")) for i in intervals) if moment]
    leaves = [moment for moment in (parse_time(i.get("leaveDateTime")) for i in intervals) if moment]
    seconds = item.get("totalAttendanceInSeconds")
    identity_id = identity.get("id")
    return AttendanceRecord(
        identity_id=identity_id if isinstance(identity_id, str) and identity_id else None,
        first_join=min(joins) if joins else None,
        last_leave=max(leaves) if leaves else None,
        total_seconds=seconds if isinstance(seconds, int) and seconds >= 0 else 0,
    )


def _document(response: GraphResponse) -> dict:
    try:
        document = response.json()
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}
