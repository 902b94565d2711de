"""Load the operators' configuration (counters, agents, topics, policy) from a JSON file into the config table.

Usage: python -m tools.seed FILE [--prune] [--check]
  --check  validate the file and print what it holds, without writing
  --prune  also delete rows of the config table that the file no longer has
Storage comes from the same settings as the app (AzureWebJobsStorage, TABLE_PREFIX, ...).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from shared.configuration import ConfigFile


def load(path: Path) -> ConfigFile:
    return ConfigFile.model_validate(json.loads(path.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load counters, agents, topics and the booking policy.")
    parser.add_argument("file", type=Path, help="the configuration JSON file")
    parser.add_argument("--prune", action="store_true", help="delete config rows that the file no longer has")
    parser.add_argument("--check", action="store_true", help="only validate the file")
    args = parser.parse_args(argv)

    try:
        config = load(args.file)
    except (OSError, ValueError, ValidationError) as error:
        print(f"invalid configuration file {args.file}: {error}", file=sys.stderr)
        return 2
    summary = (
        f"{len(config.counters)} counters, {len(config.agents)} agents, {len(config.topics)} topics"
    )
    if args.check:
        print(f"{args.file} is valid: {summary}")
        return 0

    from functions import dependencies

    written, deleted = dependencies.config_store().replace(config, prune=args.prune)
    print(f"seeded {summary}: {written} rows written, {deleted} rows deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
