"""`softskills serve | keys | users | analyze`: one command, each part where it belongs (the launcher in
cli/serve.py, keys and accounts in auth/cli.py, the API client in client/cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from softskills.auth import cli as auth_cli
from softskills.cli import serve
from softskills.client import cli as client_cli

COMMANDS = {"serve": serve, "keys": auth_cli, "users": auth_cli, "analyze": client_cli}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="softskills", description="Run and use the softskills API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_parser(commands)
    auth_cli.add_parsers(commands)
    client_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
