"""Cold start of the first Teams meeting: the provisioning adapter against the SDK's typed-response path.

Each run is a fresh Python process that creates one meeting (createOrGet, then the PATCH of the
meeting options) against the fake Graph of tests/graph/fake_graph.py on 127.0.0.1. The timed
part starts before msgraph and azure.identity are imported and ends when the meeting is back, so
it includes the imports, the token request and both Graph calls:
- adapter: GraphMeetingProvider.create_or_get, which reads the raw responses (NativeResponseHandler);
- sdk_typed: the same two calls with the SDK's request bodies and default response parsing into
  OnlineMeeting models.
Prints the median of RUNS runs of each, and their ratio.

    python -m benchmarks.graph_cold_start
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
VARIANTS = ("adapter", "sdk_typed")


def main(argv: list[str] | None = None) -> None:
    """Print the figures. `argv` contains this module's options only; the benchmark runner passes none."""
    arguments = _parse_arguments(argv or [])
    if arguments.child:
        print(json.dumps({"seconds": _run_child(arguments)}))
        return

    from tests.graph.fake_graph import FakeGraph

    with tempfile.TemporaryDirectory() as directory, FakeGraph(Path(directory)) as fake:
        medians = {variant: statistics.median(_time_in_subprocess(variant, fake) for _ in range(arguments.runs))
                   for variant in VARIANTS}
    print(f"graph_first_meeting_adapter: {medians['adapter']:.3f} s")
    print(f"graph_first_meeting_sdk_typed: {medians['sdk_typed']:.3f} s")
    print(f"graph_first_meeting_speedup: {medians['sdk_typed'] / medians['adapter']:.1f} x")


def _parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="fresh processes per variant (default %(default)s)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--graph-url", help=argparse.SUPPRESS)
    parser.add_argument("--authority", help=argparse.SUPPRESS)
    parser.add_argument("--ca-file", help=argparse.SUPPRESS)
    parser.add_argument("--reference", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _time_in_subprocess(variant: str, fake) -> float:
    reference = f"VLBENCH{time.monotonic_ns() % 100_000:05d}"
    command = [
        sys.executable, "-W", "ignore::DeprecationWarning", "-m", "benchmarks.graph_cold_start",
        "--child", variant, "--graph-url", fake.graph_url, "--authority", fake.authority,
        "--ca-file", str(fake.ca_file), "--reference", reference,
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the {variant} run failed:\n{result.stderr}")
    if fake.violations:
        raise RuntimeError(f"the {variant} run sent requests the fake Graph rejected: {fake.violations}")
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]


def _run_child(arguments: argparse.Namespace) -> float:
    import asyncio

    from tests.graph.fake_graph import CLIENT_ID, CLIENT_SECRET, ORGANIZER_ID, TENANT_ID

    connection = dict(tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                      organizer=ORGANIZER_ID, reference=arguments.reference)
    run = _adapter_meeting if arguments.child == "adapter" else _typed_meeting
    return asyncio.run(run(arguments, connection))


async def _adapter_meeting(arguments, connection) -> float:
    from shared.adapters.graph.client import GraphApi, GraphConnection
    from shared.adapters.graph.meetings import GraphMeetingProvider
    from tests import catalogs

    booking = _booking(connection["reference"])
    api = GraphApi(GraphConnection(
        base_url=arguments.graph_url, authority_host=arguments.authority, credential="client_secret",
        tenant_id=connection["tenant_id"], client_id=connection["client_id"],
        client_secret=connection["client_secret"], authority_ca_file=arguments.ca_file,
    ))
    provider = GraphMeetingProvider(api, _StaticCatalog(catalogs.catalog()), default_organizer=connection["organizer"])

    started = time.perf_counter()
    meeting = await provider.create_or_get(booking)
    elapsed = time.perf_counter() - started

    assert meeting.join_url
    await api.aclose()
    return elapsed


async def _typed_meeting(arguments, connection) -> float:
    booking = _booking(connection["reference"])

    started = time.perf_counter()
    from azure.identity.aio import ClientSecretCredential
    from msgraph import GraphServiceClient
    from msgraph.generated.models.lobby_bypass_scope import LobbyBypassScope
    from msgraph.generated.models.lobby_bypass_settings import LobbyBypassSettings
    from msgraph.generated.models.meeting_chat_mode import MeetingChatMode
    from msgraph.generated.models.online_meeting import OnlineMeeting
    from msgraph.generated.models.online_meeting_presenters import OnlineMeetingPresenters
    from msgraph.generated.users.item.online_meetings.create_or_get.create_or_get_post_request_body import (
        CreateOrGetPostRequestBody,
    )

    credential = ClientSecretCredential(
        connection["tenant_id"], connection["client_id"], connection["client_secret"],
        authority=arguments.authority, connection_verify=arguments.ca_file,
    )
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = arguments.graph_url
    meetings = client.users.by_user_id(connection["organizer"]).online_meetings
    created = await meetings.create_or_get.post(CreateOrGetPostRequestBody(
        external_id=booking.reference, start_date_time=booking.start, end_date_time=booking.end,
        subject=f"Videoloket {booking.reference}",
    ))
    await meetings.by_online_meeting_id(created.id).patch(OnlineMeeting(
        start_date_time=booking.start, end_date_time=booking.end,
        lobby_bypass_settings=LobbyBypassSettings(scope=LobbyBypassScope.Organization, is_dial_in_bypass_enabled=False),
        allowed_presenters=OnlineMeetingPresenters.Organizer, allow_recording=False, allow_transcription=False,
        record_automatically=False, allow_participants_to_change_name=False, is_entry_exit_announced=True,
        allow_meeting_chat=MeetingChatMode.Limited, allow_attendee_to_enable_camera=True,
        allow_attendee_to_enable_mic=True,
    ))
    elapsed = time.perf_counter() - started

    assert created.join_web_url
    await credential.close()
    return elapsed


def _booking(reference: str):
    from tests.factories import make_booking

    return make_booking().replace(reference=reference, agent_id="a1", join_url=None, meeting_id=None)


class _StaticCatalog:
    def __init__(self, catalog) -> None:
        self._catalog = catalog

    def catalog(self):
        return self._catalog


if __name__ == "__main__":
    main(sys.argv[1:])
