"""``ahabench serve``: one registered policy behind a websocket, for clients in other processes or machines.

Each connection is a session with a policy instance of its own (instances are built by the policy's factory and
reused by later connections, so a checkpoint loads about once per concurrent client). On connect the server sends
its metadata: the policy's spec, the roofline cost of each call where the policy gives one, and the protocol
version. Then the client drives the policy with ``reset``, ``prefill`` and ``chunk``/``call`` messages
(docs/serving.md); a planner's contexts stay on the server, and the client refers to them by number.

Replies are computed in the order the client sends requests, with the global RNGs seeded from the episode seed
at ``reset`` exactly as the evaluation worker seeds them in process, and one compute thread as there: a served
policy gives the same actions as the same policy in process.

Security: binds loopback unless told otherwise; with an API key, a client without ``Authorization: Api-Key KEY``
is refused during the handshake (HTTP 401); messages are msgpack, never pickle; privileged policies (the scripted
expert reads simulator state) are never served.
"""

from __future__ import annotations

import dataclasses
import hmac
import http
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from ahabench.policy import Policy
from ahabench.serve import wire

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Planner contexts a session keeps: the clock only ever reads the newest published one, but in async mode a
#: newer prefill can finish before the executor call that still reads the previous context.
MAX_CONTEXTS = 8


def api_key_header(key: str) -> dict[str, str]:
    """The handshake header that carries an API key (openpi's convention)."""
    return {"Authorization": f"Api-Key {key}"}


@dataclass
class ServerStats:
    """Counters the CLI shows in its status line; updated by the connection threads."""

    connections: int = 0
    open: int = 0
    refused: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    busy_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_call(self, call: str, seconds: float) -> None:
        with self.lock:
            self.calls[call] = self.calls.get(call, 0) + 1
            self.busy_s += seconds

    def line(self) -> str:
        n = sum(self.calls.values())
        ms = f", {1000 * self.busy_s / n:.1f} ms/call" if n else ""
        calls = ", ".join(f"{k} {v}" for k, v in sorted(self.calls.items())) or "no calls yet"
        return f"{self.open} client(s) connected, {self.connections} served, {self.refused} refused; {calls}{ms}"


class PolicyServer:
    """Serves policy ``name`` (built with ``make_policy(name, **kwargs)``) on ``host:port``.

    ``port=0`` picks a free port (:attr:`port` says which). :meth:`serve_forever` blocks until
    :meth:`shutdown` or Ctrl-C.
    """

    def __init__(self, name: str, policy_kwargs: dict[str, Any] | None = None, host: str = DEFAULT_HOST,
                 port: int = DEFAULT_PORT, api_key: str | None = None) -> None:
        from ahabench.policy_registry import make_policy

        self.name = name
        self.policy_kwargs = dict(policy_kwargs or {})
        self._make = lambda: make_policy(name, **self.policy_kwargs)
        first = self._make()  # fails here, before binding, on a bad name or checkpoint
        if first.spec.privileged:
            raise ValueError(f"policy {name!r} is privileged (it reads simulator state) and is never served")
        self.metadata = server_metadata(first)
        self._idle: list[Policy] = [first]
        self._idle_lock = threading.Lock()
        self.api_key = str(api_key) if api_key else None
        self.stats = ServerStats()
        self._server: Server = serve(self._handle, host, port, process_request=self._authorize, compression=None,
                                     max_size=None, logger=log)
        self.host = host
        self.port = int(self._server.socket.getsockname()[1])
        self._serving = False

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        self._serving = True
        try:
            self._server.serve_forever()
        finally:
            self._serving = False

    def shutdown(self) -> None:
        """Stop serving and close every connection: from another thread, from the one that ran
        :meth:`serve_forever` once it was interrupted, or when it never ran."""
        if not self._serving and not self._server.socket_closed.is_set():
            # serve_forever never reached its loop (not started, or interrupted before it): nothing else will set
            # the flag websockets' shutdown() waits for, so close the listening socket here
            self._server.socket.close()
            self._server.socket_closed.set()
        self._server.shutdown()

    # -- connection handling ------------------------------------------------------------------------
    def _authorize(self, conn: ServerConnection, request: Any) -> Any:
        if self.api_key is None:
            return None
        sent = request.headers.get("Authorization", "")
        if hmac.compare_digest(sent.encode(), f"Api-Key {self.api_key}".encode()):
            return None
        with self.stats.lock:
            self.stats.refused += 1
        log.warning("refused a client from %s: %s", conn.remote_address, "no API key" if not sent else "wrong API key")
        return conn.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong API key\n")

    def _take(self) -> Policy:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()
        return self._make()

    def _give_back(self, policy: Policy) -> None:
        with self._idle_lock:
            self._idle.append(policy)

    def _handle(self, conn: ServerConnection) -> None:
        with self.stats.lock:
            self.stats.connections += 1
            self.stats.open += 1
        policy = self._take()
        session = Session(policy, self.stats)
        try:
            conn.send(wire.pack(self.metadata))
            for raw in conn:
                conn.send(wire.pack(session.answer(raw)))
        except ConnectionClosed:
            pass
        finally:
            with self.stats.lock:
                self.stats.open -= 1
            self._give_back(policy)


class Session:
    """One client's conversation with one policy instance: decodes a request, runs it, encodes the reply.

    A request that cannot be decoded, or whose call raises, is answered ``{"error": "..."}`` and the session goes
    on; the client turns that into the episode's recorded error.
    """

    def __init__(self, policy: Policy, stats: ServerStats | None = None) -> None:
        self.policy = policy
        self.stats = stats
        self.contexts: OrderedDict[int, Any] = OrderedDict()
        self._next_id = 0

    def answer(self, raw: bytes | str) -> dict[str, Any]:
        try:
            msg = wire.unpack(raw)
            kind = wire.field(msg, "type", str, "request")
            t0 = time.perf_counter()
            reply = self._run(kind, msg)
            if self.stats is not None and kind != "reset":
                self.stats.add_call(kind, time.perf_counter() - t0)
            return reply
        except Exception as e:  # noqa: BLE001 - any failure is the client's to record, the server stays up
            log.info("request failed: %s: %s", type(e).__name__, e)
            return {"error": f"{type(e).__name__}: {e}"}

    def _run(self, kind: str, msg: dict[str, Any]) -> dict[str, Any]:
        if kind == "reset":
            from ahabench.engine.workers import seed_everything

            info = wire.decode_episode(wire.field(msg, "episode", dict, "reset"))
            self.contexts.clear()
            seed_everything(info.seed)  # as the in-process worker does before each episode
            self.policy.reset(info)
            return {"ok": True}
        obs = wire.decode_observation(wire.field(msg, "obs", dict, kind))
        if kind == "prefill":
            self._next_id += 1
            self.contexts[self._next_id] = self.policy.prefill(obs)
            while len(self.contexts) > MAX_CONTEXTS:
                self.contexts.popitem(last=False)
            return {"context": self._next_id}
        if kind in ("chunk", "call"):
            ctx_id = msg.get("context")
            if ctx_id is not None and ctx_id not in self.contexts:
                raise wire.WireError(f"unknown planner context {ctx_id!r} (the server keeps the last {MAX_CONTEXTS})")
            context = None if ctx_id is None else self.contexts[ctx_id]
            offset = int(msg.get("phase_offset") or 0)
            return {"actions": self.policy.act(obs, context, offset)}
        raise wire.WireError(f"unknown request type {kind!r} (reset, prefill, chunk or call)")


def server_metadata(policy: Policy) -> dict[str, Any]:
    """What a client learns on connect: protocol, the policy's spec and each call's roofline cost (if known)."""
    spec = dataclasses.asdict(policy.spec)
    costs: dict[str, dict[str, float]] = {}
    for call in policy.spec.calls:
        try:
            c = policy.cost(call)
        except (NotImplementedError, ValueError):
            continue
        costs[call] = {"flops": float(c.flops), "bytes": float(c.bytes)}
    return {"protocol": "ahabench", "version": wire.PROTOCOL_VERSION, "policy": policy.spec.name, "spec": spec,
            "costs": costs}


__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "PolicyServer", "ServerStats", "Session", "api_key_header",
           "server_metadata"]
