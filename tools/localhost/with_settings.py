"""Run a command with local.settings.json Values in its environment, so tools read the same settings as the app.

Usage: python -m tools.localhost.with_settings [--settings FILE] -- COMMAND [ARGUMENT ...]
As with `func start`, a variable that is already set in the environment keeps its value.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tools.localhost.local_settings import apply_to_environment, read_local_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localhost.with_settings",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--settings", type=Path, default=Path("local.settings.json"),
                        help="local settings file (default local.settings.json)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("missing the command to run after --")

    try:
        settings = read_local_settings(args.settings)
    except ValueError as error:
        print(f"Invalid local settings: {error}", file=sys.stderr)
        return 2
    apply_to_environment(settings.values)
    try:
        os.execvp(command[0], command)
    except OSError as error:
        print(f"Cannot run {command[0]}: {error}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    sys.exit(main())
