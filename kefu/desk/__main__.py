"""``python -m kefu.desk serve|add-agent``: run the desk, create accounts."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from kefu.handoff.agents import AccountError, create_agent
from kefu.handoff.models import ROLES
from kefu.store import StoreError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.desk", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the desk web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5080)
    serve.add_argument("--rasa-url", help="Rasa server (default KEFU_RASA_URL or localhost:5005)")
    add = commands.add_parser("add-agent", help="create a desk account")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin")
    args = parser.parse_args(argv)
    try:
        return run_serve(args) if args.command == "serve" else run_add_agent(args)
    except (AccountError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def run_add_agent(args) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            print("error: the passwords differ", file=sys.stderr)
            return 2
    agent = create_agent(args.name, password, args.role)
    print(f"created {agent.role} {agent.name!r} (id {agent.id})")
    return 0


def run_serve(args) -> int:
    from aiohttp import web

    from kefu.desk.app import make_app
    from kefu.desk.rasa_api import RasaApi
    from kefu.handoff.db import handoff_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    handoff_engine()  # fail now, with a clear message, if the database cannot be opened
    print(f"kefu desk on http://{args.host}:{args.port}/", flush=True)
    web.run_app(make_app(RasaApi(args.rasa_url)), host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
