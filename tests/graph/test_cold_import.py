"""The app's cold import, and building the Graph adapters, load neither msgraph nor azure.identity."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import function_app
from shared.adapters.graph.client import GraphApi, GraphConnection
from shared.adapters.graph.mail import GraphMailer
from shared.adapters.graph.meetings import GraphMeetingProvider
from shared.adapters.mail_log import RecordedMailer
from shared.services.provisioning import ProvisioningService

api = GraphApi(GraphConnection())
GraphMailer(api, "videoloket@hvw.example")
GraphMeetingProvider(api, catalog_source=None, default_organizer="organizer")
loaded = [name for name in sys.modules if name.split(".")[0] in ("msgraph", "msgraph_core", "kiota_http")
          or name.startswith("azure.identity")]
print(json.dumps(loaded))
"""


def test_cold_import_loads_no_graph_sdk():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, check=False)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
