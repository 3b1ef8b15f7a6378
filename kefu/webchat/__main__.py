"""``python -m kefu.webchat [--port 5010]``: serve the customer web chat page."""
import argparse
import logging
import sys

from kefu.settings import settings
from kefu.webchat.server import SOCKET_IO, Settings, make_server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.webchat", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to open it from a phone on the LAN")
    parser.add_argument("--port", type=int, default=5010)
    parser.add_argument("--rasa-url", default=settings().rasa_url,
                        help="Rasa as this server reaches it (reads transcripts with the token)")
    parser.add_argument("--public-rasa-url", default="",
                        help="Rasa as the browser reaches it (default: the page's host, Rasa's port)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not SOCKET_IO.is_file():
        print(f"error: {SOCKET_IO} is missing: run `make setup` (npm ci in kefu/webchat)", file=sys.stderr)
        return 2
    token = settings().token
    if not token:
        print("error: no Rasa token: set KEFU_TOKEN or run `make setup` (.kefu/token)", file=sys.stderr)
        return 2
    server = make_server(args.host, args.port, Settings(args.rasa_url, token, args.public_rasa_url))
    print(f"kefu web chat on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
