"""The Power Automate connector files in connector/: current, and in the shapes that paconn reads."""

from __future__ import annotations

import json
import re
import struct
import zlib
from pathlib import Path

import pytest

from tools import connector

CONNECTOR_DIR = Path(__file__).resolve().parent.parent / "connector"
# The keys of apiProperties.json "properties" and of settings.json that paconn's JSON schemas allow
# (microsoft/PowerPlatformConnectors, schemas/paconn-apiProperties.schema.json and paconn-settings.schema.json).
API_PROPERTIES_KEYS = {"iconBrandColor", "capabilities", "connectionParameters", "policyTemplateInstances"}
SETTINGS_KEYS = {
    "connectorId", "environment", "apiProperties", "apiDefinition", "icon", "powerAppsUrl", "powerAppsApiVersion",
    "flowUrl", "flowApiVersion",
}


def read_json(name: str) -> dict:
    return json.loads((CONNECTOR_DIR / name).read_text(encoding="utf-8"))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking each chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks = []
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in chunk {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    return chunks


# --- current ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [connector.API_DEFINITION, connector.API_PROPERTIES, connector.SETTINGS, connector.ICON])
def test_committed_file_is_current(name):
    fresh = connector.connector_files()[name]

    assert (CONNECTOR_DIR / name).read_bytes() == fresh, f"connector/{name} is out of date: run python -m tools.connector"


def test_check_reports_changed_file(tmp_path, capsys):
    assert connector.main(["--out", str(tmp_path)]) == 0
    assert connector.main(["--out", str(tmp_path), "--check"]) == 0

    (tmp_path / connector.API_PROPERTIES).write_text("{}", encoding="utf-8")

    assert connector.main(["--out", str(tmp_path), "--check"]) == 1
    assert "apiProperties.json" in capsys.readouterr().err


def test_host_option_sets_swagger_host(tmp_path):
    connector.main(["--out", str(tmp_path), "--host", "func-videoloket-test.azurewebsites.net"])

    definition = json.loads((tmp_path / connector.API_DEFINITION).read_text(encoding="utf-8"))
    assert definition["host"] == "func-videoloket-test.azurewebsites.net"
    assert definition["schemes"] == ["https"]


def test_host_option_needs_out():
    with pytest.raises(SystemExit) as stopped:
        connector.main(["--host", "func-videoloket-test.azurewebsites.net"])

    assert stopped.value.code == 2


def test_host_with_scheme_is_rejected(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        connector.main(["--out", str(tmp_path), "--host", "https://func-videoloket-test.azurewebsites.net"])

    assert stopped.value.code == 2


# --- apiProperties.json ---------------------------------------------------------------------------


def test_api_properties_has_paconn_keys_only():
    properties = read_json(connector.API_PROPERTIES)

    assert set(properties) == {"properties"}
    assert set(properties["properties"]) <= API_PROPERTIES_KEYS
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", properties["properties"]["iconBrandColor"])
    assert properties["properties"]["capabilities"] == []


def test_function_key_is_secure_required_parameter():
    parameter = read_json(connector.API_PROPERTIES)["properties"]["connectionParameters"]["api_key"]

    assert parameter["type"] == "securestring"
    for text in ("displayName", "description", "tooltip"):
        assert isinstance(parameter["uiDefinition"][text], str)
        assert parameter["uiDefinition"][text]
    assert parameter["uiDefinition"]["constraints"]["required"] == "true"


def test_connection_parameter_matches_security_definition():
    definition = read_json(connector.API_DEFINITION)
    parameters = read_json(connector.API_PROPERTIES)["properties"]["connectionParameters"]

    assert set(definition["securityDefinitions"]) == set(parameters)
    assert definition["securityDefinitions"]["api_key"]["name"] == "x-functions-key"


# --- settings.json ---------------------------------------------------------------------------------


def test_settings_has_paconn_keys_only():
    settings = read_json(connector.SETTINGS)

    assert set(settings) <= SETTINGS_KEYS
    assert settings["connectorId"] is None
    assert settings["environment"] == connector.ENVIRONMENT_PLACEHOLDER


def test_settings_paths_name_files_beside_it():
    settings = read_json(connector.SETTINGS)

    for key in ("apiDefinition", "apiProperties", "icon"):
        assert (CONNECTOR_DIR / settings[key]).is_file(), key


# --- icon.png --------------------------------------------------------------------------------------


def test_icon_is_square_rgb_png():
    data = (CONNECTOR_DIR / connector.ICON).read_bytes()

    chunks = png_chunks(data)

    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR"
    assert kinds[-1] == b"IEND"
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert width == height == connector.ICON_SIZE
    assert (depth, colour_type, interlace) == (8, 2, 0)
    assert len(data) < 1_000_000


def test_icon_background_is_brand_colour():
    data = (CONNECTOR_DIR / connector.ICON).read_bytes()
    brand = read_json(connector.API_PROPERTIES)["properties"]["iconBrandColor"]

    pixels = zlib.decompress(b"".join(body for kind, body in png_chunks(data) if kind == b"IDAT"))

    size = connector.ICON_SIZE
    assert len(pixels) == size * (1 + 3 * size)
    assert pixels[1:4] == bytes.fromhex(brand[1:])
    assert b"\xff\xff\xff" in pixels, "the camera glyph is missing"
