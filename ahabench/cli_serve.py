"""``ahabench serve``: a registered policy behind a websocket for ``--policy remote`` clients (thin over
:func:`ahabench.api.policy_server`; the protocol is in docs/serving.md)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Annotated, Any

import typer

from ahabench.cli_args import import_all, parse_policy_kwargs
from ahabench.cli_common import CkptOpt, ImportOpt, PolicyOpt, _friendly, app, console, err_console

#: Seconds between plain status lines when stderr is not a terminal (a log file, CI).
PLAIN_STATUS_EVERY_S = 30.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _stop(*_: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM (and SIGINT) stop the server the way Ctrl-C does


def _status_loop(server: Any, stop: threading.Event) -> None:
    """Keeps one status line fresh: a rich live line on a terminal, a plain line every 30 s otherwise."""
    if err_console.is_terminal:
        with err_console.status(server.stats.line()) as status:
            while not stop.wait(0.5):
                status.update(f"{server.name} on {server.url}: {server.stats.line()}")
        return
    while not stop.wait(PLAIN_STATUS_EVERY_S):
        print(f"ahabench serve: {server.stats.line()}", file=sys.stderr, flush=True)


@app.command("serve")
@_friendly
def serve_cmd(policy: PolicyOpt, checkpoint: CkptOpt = None, imports: ImportOpt = None,
              policy_args: Annotated[list[str] | None, typer.Option("--policy-arg", "-P", help="KEY=VALUE passed to the policy factory; repeatable.")] = None,
              host: Annotated[str, typer.Option("--host", help="Address to bind: loopback by default; 0.0.0.0 serves every interface (use --api-key then).")] = "127.0.0.1",
              port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port; 0 picks a free one (printed).")] = 8765,
              api_key: Annotated[str | None, typer.Option("--api-key", envvar="AHABENCH_API_KEY", help="Refuse clients that do not send this key (header 'Authorization: Api-Key KEY').")] = None) -> None:
    """Serve a policy over websockets (msgpack + numpy, openpi's wire format) for `--policy remote -P url=ws://HOST:PORT`."""
    from ahabench import api

    import_all(imports)
    server = api.policy_server(policy, parse_policy_kwargs(checkpoint, policy_args), host=host, port=port, api_key=api_key)
    if host not in LOOPBACK and not api_key:
        err_console.print(f"[yellow]warning:[/yellow] serving on {host} without --api-key: anyone who reaches this port can use the policy")
    # Both stop the server cleanly; SIGINT explicitly too, since a process started in the background by a shell
    # inherits SIGINT ignored and Python then installs no KeyboardInterrupt for it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    stop = threading.Event()
    status = threading.Thread(target=_status_loop, args=(server, stop), daemon=True)
    t0 = time.monotonic()
    try:  # from here on, Ctrl-C or SIGTERM (even right after the URL is printed) stops the server cleanly
        # One plain line on stdout, always: scripts and tests read the URL (and the port picked for --port 0) from it.
        print(f"ahabench serve: {policy} listening on {server.url}" + (" (API key required)" if api_key else ""), flush=True)
        status.start()
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if status.is_alive():
            status.join(timeout=2)
        server.shutdown()
    console.print(f"stopped after {time.monotonic() - t0:.0f} s: {server.stats.line()}", highlight=False)
