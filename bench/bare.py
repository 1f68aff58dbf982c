"""The baselines' servers: a bare `websockets` relay that greets like consent and
`broadcast()`s an event of the same shape and size to the sender's room (plus the same ack to
the sender), and a minimal Litestar app for the start-to-ready baseline.

    python -m bench.bare relay PORT | python -m bench.bare litestar PORT
"""

from __future__ import annotations

import json
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from http import HTTPStatus

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

ACTOR = {"id": str(uuid.uuid4()), "name": "Member 0000"}  # as consent names the seeded author
rooms: dict[str, set[ServerConnection]] = defaultdict(set)
seqs: dict[str, int] = defaultdict(int)


def ready(connection: ServerConnection, request: Request) -> Response | None:
    """A plain GET (the bench waiting for the server) is answered 200; upgrades go on."""
    if request.headers.get("upgrade") is None:
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


async def relay(ws: ServerConnection) -> None:
    await ws.recv()  # the hello
    await ws.send('{"type":"welcome","seq":0,"state":{}}')
    path = ws.request.path
    room = rooms[path]
    room.add(ws)
    try:
        async for text in ws:
            action = json.loads(text)
            seqs[path] += 1
            event = {
                "seq": seqs[path],
                "type": "question_answered",
                "at": datetime.now(UTC).isoformat(),
                "actor": ACTOR,
                "data": {"question_id": action["question_id"], "text": action["text"]},
            }
            broadcast(room, json.dumps(event, separators=(",", ":")))
            await ws.send(json.dumps({"type": "ack", "client_id": action["client_id"], "seq": seqs[path]}))
    finally:
        room.discard(ws)


async def relay_forever(port: int) -> None:
    # As `consent serve`: pings every 20 s, 64 KiB messages, no per-message deflate.
    async with serve(
        relay,
        "127.0.0.1",
        port,
        process_request=ready,
        compression=None,
        max_size=65536,
        ping_interval=20,
        ping_timeout=20,
    ) as server:
        await server.serve_forever()


def litestar(port: int) -> None:
    import uvicorn
    from litestar import Litestar, get

    @get("/")
    async def index() -> str:
        return "ok"

    uvicorn.run(Litestar([index]), host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind == "relay":
        uvloop.run(relay_forever(port))
    else:
        litestar(port)
