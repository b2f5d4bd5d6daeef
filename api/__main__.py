"""``python -m api serve [--host 127.0.0.1] [--port 8000]``: serve the HTTP API with uvicorn;
``python -m api openapi > docs/openapi.json``: print the API's OpenAPI schema (the checked-in copy is compared
with the live one by the test suite).

The API listens on the loopback interface by default. On any other address it refuses to start unless
``VBL_API_TOKEN`` is set, and then every request needs ``Authorization: Bearer <token>``. The database is the
app's (``VBL_DATABASE_URL``). Bad arguments or settings print one ``error:`` line and exit with code 2.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Sequence
from typing import Any

from api.app import TOKEN_VAR, Settings

EXIT_USAGE = 2


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m api`` parser."""
    parser = argparse.ArgumentParser(prog="python -m api", description="Volatility Balancing Lab HTTP API")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    commands.add_parser("openapi", help="print the OpenAPI schema as JSON (python -m api openapi > docs/openapi.json)")
    return parser


def openapi_schema() -> dict[str, Any]:
    """The application's OpenAPI schema, independent of this machine's settings (token, limits, database)."""
    from api.app import create_app

    return create_app(Settings()).openapi()


def openapi_text() -> str:
    """:func:`openapi_schema` as the text of ``docs/openapi.json`` (indented, ending in a newline)."""
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the command (``serve``: check the settings first)."""
    args = build_parser().parse_args(argv)
    if args.command == "openapi":
        sys.stdout.write(openapi_text())
        return 0
    from usecases.settings import load_settings

    try:
        load_settings("api")  # the profile's rules (VBL_ENV=prod needs a token, a chosen database, no debug)
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not is_loopback(args.host) and not settings.token:
        print(f"error: refusing to listen on {args.host}, which is not a loopback address, without a token; set "
              f"{TOKEN_VAR} (clients then send 'Authorization: Bearer <token>') or bind 127.0.0.1", file=sys.stderr)
        return EXIT_USAGE
    if not 0 < args.port < 65536:
        print(f"error: --port must be between 1 and 65535, got {args.port}", file=sys.stderr)
        return EXIT_USAGE

    import uvicorn

    from api.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level,
                server_header=False, proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
