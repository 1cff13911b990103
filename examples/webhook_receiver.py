"""Receive seqgql's webhooks: verify each signature (Standard Webhooks), drop repeats by
their webhook-id, print one line per event.

    WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8001

Answers 204 to a message it verified (seqgql then sends the next one of that sequence),
400 to one whose signature does not verify (seqgql tries it again later). A real
receiver would store the event, or queue it, before answering: seqgql sends it again
until it gets a 2xx.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1_000_000


def handler(verifier: Webhook, seen: set[str], lock: Lock) -> type[BaseHTTPRequestHandler]:
    class Receive(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                print(f"refused: {exc}", file=sys.stderr, flush=True)
                self.send_response(400)
                self.end_headers()
                return
            with lock:
                repeat = self.headers["webhook-id"] in seen
                seen.add(self.headers["webhook-id"])
            if not repeat:
                data = event["data"]
                print(
                    f"{self.headers['webhook-id']} {event['type']}: enrollment "
                    f"{data['enrollmentId']} {data['fromStatus']} -> {data['toStatus']}"
                    f"{' (' + data['reason'] + ')' if data['reason'] else ''}",
                    flush=True,
                )
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per event is printed above

    return Receive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--secret",
        default=os.environ.get("WEBHOOK_SECRET"),
        help="the endpoint's secret (whsec_…); default: $WEBHOOK_SECRET",
    )
    args = parser.parse_args()
    if not args.secret:
        parser.error("give the endpoint's secret: --secret or WEBHOOK_SECRET")
    server = ThreadingHTTPServer(
        (args.host, args.port), handler(Webhook(args.secret), set(), Lock())
    )
    print(json.dumps({"listening": f"http://{args.host}:{server.server_port}/"}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
