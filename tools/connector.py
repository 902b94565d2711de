"""Write the Power Automate custom connector files (the set that paconn reads) from the app's routes.

Usage: python -m tools.connector [--out DIR] [--host HOST] [--check]
  --out    the directory to write to (default: connector/ in the repository)
  --host   the function app's host name, such as func-videoloket.azurewebsites.net; only with --out,
           because the committed connector/ keeps the placeholder host
  --check  write nothing; exit 1 when the files in --out differ from a fresh generation

The files are apiDefinition.swagger.json (shared/openapi.py), apiProperties.json (the function key
as the connection parameter), settings.json (paconn's arguments) and icon.png.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import zlib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DIRECTORY = REPOSITORY / "connector"

API_DEFINITION = "apiDefinition.swagger.json"
API_PROPERTIES = "apiProperties.json"
SETTINGS = "settings.json"
ICON = "icon.png"

BRAND_COLOR = "#1F4E79"
ICON_SIZE = 230  # pixels per side
ENVIRONMENT_PLACEHOLDER = "REPLACE-WITH-POWER-PLATFORM-ENVIRONMENT-ID"
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$")


def connector_files(host: str | None = None) -> dict[str, bytes]:
    """Return the connector's files by name. `host` defaults to the placeholder of shared/openapi.py."""
    import function_app
    from shared.openapi import PLACEHOLDER_HOST, connector_document, render

    document = connector_document(function_app.app, host or PLACEHOLDER_HOST)
    return {
        API_DEFINITION: render(document).encode("utf-8"),
        API_PROPERTIES: _json(api_properties()),
        SETTINGS: _json(paconn_settings()),
        ICON: icon_png(ICON_SIZE, BRAND_COLOR),
    }


def api_properties() -> dict:
    """Return apiProperties.json: a connection stores one function key, sent as the x-functions-key header."""
    return {
        "properties": {
            "connectionParameters": {
                "api_key": {
                    "type": "securestring",
                    "uiDefinition": {
                        "displayName": "Function key",
                        "description": "A key of the videoloket function app, sent in the x-functions-key header",
                        "tooltip": "In the Azure portal: the function app, then App keys. Use a host key made for Power Automate.",
                        "constraints": {"tabIndex": 2, "clearText": False, "required": "true"},
                    },
                }
            },
            "iconBrandColor": BRAND_COLOR,
            "capabilities": [],
        }
    }


def paconn_settings() -> dict:
    """Return paconn's settings file. The paths are relative, so paconn must run in the connector directory."""
    return {
        "connectorId": None,
        "environment": ENVIRONMENT_PLACEHOLDER,
        "apiProperties": API_PROPERTIES,
        "apiDefinition": API_DEFINITION,
        "icon": ICON,
    }


def _json(data: dict) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --- the icon --------------------------------------------------------------------------------------


def icon_png(size: int, background: str) -> bytes:
    """Draw a white video camera on `background` (#RRGGBB) and encode it as an RGB PNG."""
    red, green, blue = (int(background[i : i + 2], 16) for i in (1, 3, 5))
    fill = bytes((red, green, blue))
    white = b"\xff\xff\xff"
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0: the row's bytes as they are
        for x in range(size):
            row += white if _in_camera(x / size, y / size) else fill
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", header),
        _png_chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
        _png_chunk(b"IEND", b""),
    ))


def _in_camera(x: float, y: float) -> bool:
    """Tell whether a point (coordinates from 0 to 1) lies on the camera: a body and a lens widening to the right."""
    body = 0.22 <= x <= 0.62 and 0.33 <= y <= 0.67
    spread = (x - 0.62) * 0.55
    lens = 0.62 <= x <= 0.80 and 0.42 - spread <= y <= 0.58 + spread
    return body or lens


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- the command -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Power Automate custom connector files.")
    parser.add_argument("--out", type=Path, default=DEFAULT_DIRECTORY, help="the directory to write to")
    parser.add_argument("--host", help="the function app's host name, without https:// (only with --out)")
    parser.add_argument("--check", action="store_true", help="only compare the files in --out with a fresh generation")
    args = parser.parse_args(argv)

    if args.host and args.out.resolve() == DEFAULT_DIRECTORY:
        parser.error("--host needs --out: the committed connector/ keeps the placeholder host")
    if args.host and not _HOST.match(args.host):
        parser.error(f"--host {args.host!r} is not a host name: give it without https:// and without a path")

    files = connector_files(args.host)
    if args.check:
        stale = [name for name, content in files.items() if _read(args.out / name) != content]
        if stale:
            print(f"{args.out}: out of date: {', '.join(stale)}; run python -m tools.connector", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date")
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (args.out / name).write_bytes(content)
    print(f"wrote {', '.join(files)} to {args.out}")
    return 0


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.exists() else None


if __name__ == "__main__":
    sys.exit(main())
