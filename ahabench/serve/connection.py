"""The client end of a policy server connection: one request, one reply, with timeouts and clear errors.

Used by the ``remote`` policy (``ahabench serve``'s protocol) and the ``openpi`` policy (openpi's protocol, with
openpi-client's codec). Both protocols open the same way: a websocket handshake (an API key goes in the
``Authorization: Api-Key ...`` header) and a metadata message from the server.

Errors: a server that cannot be reached within ``connect_timeout`` (refused connections are retried until then,
so a server being restarted is waited for) or that refuses the handshake raises
:class:`~ahabench.policy.PolicyUnreachableError` (the run stops); a connection lost or a reply not received within
``timeout`` during a call raises :class:`RemoteCallError` (that episode is recorded with the error; the worker
reconnects for the next one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ahabench.policy import BadActionError, PolicyUnreachableError

log = logging.getLogger(__name__)

#: Seconds between connection attempts while nothing listens at the address (within ``connect_timeout``).
RETRY_S = 0.25


class RemoteCallError(RuntimeError):
    """A call to a policy server failed: the connection was lost, the reply timed out, or the server reported an
    error."""


class Connection:
    """A websocket to a policy server. ``pack``/``unpack`` are the codec (ahabench's or openpi's)."""

    def __init__(self, url: str, *, api_key: str | None, connect_timeout: float, timeout: float,
                 pack: Callable[[Any], bytes], unpack: Callable[[Any], Any]) -> None:
        self.url, self.timeout = url, timeout
        self._pack, self._unpack = pack, unpack
        headers = {"Authorization": f"Api-Key {api_key}"} if api_key else None
        deadline = time.monotonic() + connect_timeout
        try:
            while True:
                try:
                    # proxy=None: a policy server is reached directly, whatever proxy the environment names
                    self._ws: ClientConnection | None = connect(
                        url, open_timeout=max(0.1, deadline - time.monotonic()), additional_headers=headers,
                        compression=None, max_size=None, proxy=None, legacy=True)
                    break
                except ConnectionRefusedError:
                    # nothing listens yet: a server (re)starting, as after a crash under a supervisor
                    if time.monotonic() + RETRY_S > deadline:
                        raise
                    time.sleep(RETRY_S)
        except InvalidStatus as e:
            code = e.response.status_code
            why = "wrong or missing API key" if code == 401 else f"HTTP {code}"
            raise PolicyUnreachableError(f"policy server {url} refused the connection ({why})") from None
        except (OSError, TimeoutError) as e:
            raise PolicyUnreachableError(f"cannot reach policy server {url}: {e or type(e).__name__}") from None
        except Exception as e:  # noqa: BLE001 - a handshake with something that is not a websocket server
            raise PolicyUnreachableError(f"cannot reach policy server {url}: {type(e).__name__}: {e}") from None
        try:
            self.metadata = self._recv("metadata", connect_timeout)
        except RemoteCallError as e:
            self.close()
            raise PolicyUnreachableError(f"policy server {url} sent no metadata: {e}") from None

    def _recv(self, what: str, timeout: float) -> Any:
        assert self._ws is not None
        try:
            raw = self._ws.recv(timeout=timeout)
        except TimeoutError:
            raise RemoteCallError(f"no reply to {what} from {self.url} within {timeout:g} s") from None
        except ConnectionClosed as e:
            raise RemoteCallError(f"connection to {self.url} lost during {what} ({e})") from None
        return self._unpack(raw)

    def request(self, message: Any, what: str) -> Any:
        """Send ``message``, return the decoded reply (``what`` names the call in errors)."""
        if self._ws is None:
            raise RemoteCallError(f"connection to {self.url} is closed")
        try:
            self._ws.send(self._pack(message))
        except ConnectionClosed as e:
            raise RemoteCallError(f"connection to {self.url} lost during {what} ({e})") from None
        return self._recv(what, self.timeout)

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except Exception:  # noqa: BLE001 - closing a dead socket must not mask why it died
                log.debug("closing %s failed", self.url, exc_info=True)
            self._ws = None

def actions_from_reply(reply: dict[str, Any], who: str) -> np.ndarray:
    """The reply's ``actions`` as a numeric array; anything else is a bad action naming what came instead
    (the shape, NaN and joint bounds are checked by the episode runner)."""
    actions = reply.get("actions")
    if not isinstance(actions, np.ndarray) or actions.dtype.kind not in "biuf":
        got = ("no 'actions' field" if "actions" not in reply
               else f"'actions' of type {type(actions).__name__}: {str(actions)[:60]!r}")
        raise BadActionError(f"{who} replied with {got}; expected an (H, D) numeric array")
    return np.array(actions)  # a copy: openpi's codec gives read-only arrays over the message buffer


__all__ = ["Connection", "RemoteCallError", "actions_from_reply"]
