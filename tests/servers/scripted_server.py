"""A scripted policy server for the tests: speaks openpi's protocol or ahabench's, and misbehaves on request.

Run as ``python scripted_server.py --protocol openpi|ahabench [--fault F] [--api-key K] [--port N]``; it binds
loopback (a free port unless told) and prints ``listening on ws://127.0.0.1:PORT``. Its policy holds the robot
still (each reply repeats the proprioception). openpi requests are checked against the ALOHA layout (``state``,
``prompt``, ``images`` with uint8 CHW 224x224 cameras); a request that breaks it is answered with a text frame, as
openpi servers answer a failed inference.

Faults: ``nan`` / ``shape`` / ``range`` / ``string`` / ``no-actions``: a malformed reply from the third call on;
``die`` (the process exits at its third call, mid-episode); ``slow`` (the third call sleeps 5 s).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
from openpi_client import msgpack_numpy
from websockets.sync.server import serve

CHUNK = 16


def check_aloha(obs: Any) -> str | None:
    """What is wrong with ``obs`` as an ALOHA request (None: nothing). Every task has a head camera (cam_high);
    the wrist cameras are there as the task has them."""
    if not isinstance(obs, dict) or not {"state", "prompt", "images"} <= set(obs):
        return f"missing ALOHA keys: got {sorted(obs) if isinstance(obs, dict) else type(obs).__name__}"
    if "cam_high" not in obs["images"] or not set(obs["images"]) <= {"cam_high", "cam_left_wrist", "cam_right_wrist"}:
        return f"cameras {sorted(obs['images'])} are not ALOHA's"
    for cam, img in obs["images"].items():
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.shape != (3, 224, 224):
            return f"image {cam} is not uint8 (3, 224, 224): {getattr(img, 'shape', img)!r}"
    if not isinstance(obs["prompt"], str) or obs["state"].dtype != np.float32:
        return "prompt must be text and state float32"
    return None


def reply_actions(state: np.ndarray, n: int, fault: str | None) -> Any:
    actions = np.repeat(np.asarray(state, np.float32)[None], CHUNK, axis=0)
    if fault is None or n < 3:
        return actions
    if fault == "nan":
        actions[1, 0] = np.nan
    elif fault == "shape":
        actions = actions[:, :-1]
    elif fault == "range":
        actions[0, 0] = 50.0
    elif fault == "string":
        return "left a bit"
    elif fault == "die":
        os._exit(3)
    elif fault == "slow":
        time.sleep(5.0)
    return actions


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--protocol", choices=("openpi", "ahabench"), default="openpi")
    ap.add_argument("--fault", default=None)
    ap.add_argument("--api-key", default=None)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    calls = {"n": 0}

    def authorize(conn: Any, request: Any) -> Any:
        if args.api_key and request.headers.get("Authorization") != f"Api-Key {args.api_key}":
            return conn.respond(401, "bad key\n")
        return None

    def handler(conn: Any) -> None:
        if args.protocol == "openpi":
            conn.send(msgpack_numpy.packb({"server": "scripted"}))
        else:
            spec = {"name": "hold", "chunk_len": CHUNK, "execute_len": 8, "has_planner": False,
                    "modes": ["frozen", "blocking", "async"], "default_mode": "blocking", "privileged": False}
            conn.send(msgpack_numpy.packb({"protocol": "ahabench", "version": 1, "policy": "hold", "spec": spec,
                                           "costs": {}}))
        for raw in conn:
            msg = msgpack_numpy.unpackb(raw)
            if args.protocol == "openpi":
                bad = check_aloha(msg)
                if bad:
                    conn.send(f"Traceback (most recent call last):\nValueError: {bad}")
                    continue
                state = msg["state"]
            else:
                if msg["type"] == "reset":
                    conn.send(msgpack_numpy.packb({"ok": True}))
                    continue
                state = msg["obs"]["qpos"]
            calls["n"] += 1
            actions = reply_actions(state, calls["n"], args.fault)
            conn.send(msgpack_numpy.packb({} if args.fault == "no-actions" and calls["n"] >= 3 else {"actions": actions}))

    with serve(handler, "127.0.0.1", args.port, process_request=authorize, compression=None, max_size=None) as server:
        print(f"listening on ws://127.0.0.1:{server.socket.getsockname()[1]}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
