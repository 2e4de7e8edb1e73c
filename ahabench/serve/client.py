"""The shared base of policies that run in a server (``remote``, ``openpi``): one connection, opened again after a
failure, closed with the policy."""

from __future__ import annotations

import abc

from ahabench.policy import Policy
from ahabench.serve.connection import Connection


class ServerClientPolicy(Policy):
    """A policy whose calls go to a server over :class:`Connection`; subclasses say how to open it."""

    _conn: Connection | None = None

    @abc.abstractmethod
    def _open(self) -> Connection:
        """A new connection to the server (raises PolicyUnreachableError when there is none)."""

    def _connection(self) -> Connection:
        """The open connection, opening one when the last was lost or closed."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __del__(self) -> None:
        self.close()


__all__ = ["ServerClientPolicy"]
