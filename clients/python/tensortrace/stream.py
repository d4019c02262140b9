"""One generation over the WebSocket stream (protocol tensortrace.stream/1, docs/stream-protocol.md).

Uses the ``websockets`` package (Debian: python3-websockets), asyncio client API (websockets 10 and later).
"""

import asyncio
import json
import threading

from .client import TensorTraceError


def _ws_url(http_url):
    if http_url.startswith("https://"):
        return "wss://" + http_url[len("https://") :] + "/stream"
    if http_url.startswith("http://"):
        return "ws://" + http_url[len("http://") :] + "/stream"
    raise ValueError("the server URL must start with http:// or https://: %r" % http_url)


async def _generate(url, prompt, max_new_tokens, on_token, params, timeout):
    try:
        import websockets
    except ImportError as err:  # optional dependency
        raise ImportError("generate() needs the websockets package (pip install websockets, or python3-websockets)") from err
    frame = {"type": "generate", "id": "g1", "max_new_tokens": max_new_tokens}
    frame.update({k: v for k, v in params.items() if v is not None})
    if isinstance(prompt, str):
        frame["prompt"] = prompt
    else:
        frame["token_ids"] = list(prompt)
    async with websockets.connect(_ws_url(url), max_size=None, open_timeout=timeout) as ws:
        await ws.send(json.dumps(frame))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            kind = msg.get("type")
            if kind == "error" and msg.get("id") in ("g1", None):
                raise TensorTraceError(400, msg.get("code"), msg.get("message"), msg)
            if msg.get("id") != "g1":
                continue
            if kind == "token" and on_token is not None:
                edits = on_token(msg)
                if edits is not None:  # a new set of interventions from the next forward pass on
                    await ws.send(json.dumps({"type": "intervene", "id": "g1", "interventions": list(edits)}))
            elif kind == "done":
                return msg


def generate(url, prompt, max_new_tokens, on_token, params, timeout):
    """Run the generation to its ``done`` frame; works inside a running event loop (a notebook) too."""
    coro = _generate(url, prompt, max_new_tokens, on_token, params, timeout)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # A loop is already running in this thread (Jupyter): run ours in a thread of its own.
    box = {}

    def run():
        try:
            box["done"] = asyncio.run(coro)
        except BaseException as err:  # handed back to the caller below
            box["error"] = err

    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box["done"]
