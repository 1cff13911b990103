"""Watch a sequence's status changes live (graphql-transport-ws over a websocket).

    python examples/watch.py --token sqg_... --sequence U2VxdWVuY2U6MQ==

Prints one line per change. Pass --since CURSOR to replay what you missed first.
"""

from __future__ import annotations

import argparse
import asyncio
import json

import websockets

QUERY = """
subscription($seq: ID!, $since: String) {
  enrollmentStatusChanged(sequenceId: $seq, since: $since) {
    cursor number fromStatus toStatus reason occurredAt
    enrollment { contact { name } }
  }
}"""


async def watch(url: str, token: str, sequence: str, since: str | None, limit: int) -> None:
    protocols = ["graphql-transport-ws"]
    async with websockets.connect(url, subprotocols=protocols) as ws:  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"authorization": f"Bearer {token}"}}))  # fmt: skip
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": QUERY, "variables": {"seq": sequence, "since": since}}}))  # fmt: skip
        seen = 0
        while limit <= 0 or seen < limit:
            message = json.loads(await ws.recv())
            if message["type"] == "ping":
                await ws.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] != "next":
                print(message)
                return
            change = message["payload"]["data"]["enrollmentStatusChanged"]
            name = change["enrollment"]["contact"]["name"]
            moved = f"{change['fromStatus']} -> {change['toStatus']} ({change['reason'] or '-'})"
            print(f"#{change['number']} {name}: {moved}  cursor={change['cursor']}", flush=True)
            seen += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="ws://127.0.0.1:8000/graphql")
    parser.add_argument("--token", required=True)
    parser.add_argument("--sequence", required=True, help="the sequence's global id")
    parser.add_argument("--since", help="a cursor from an earlier message")
    parser.add_argument("--limit", type=int, default=0, help="stop after N changes")
    args = parser.parse_args()
    asyncio.run(watch(args.url, args.token, args.sequence, args.since, args.limit))


if __name__ == "__main__":
    main()
