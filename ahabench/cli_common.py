"""What every ``ahabench`` command shares: the Typer app, the consoles, the option aliases, the error mapping
(:func:`_friendly`) and the table helpers. :mod:`ahabench.cli` (run and report commands) and
:mod:`ahabench.cli_build` (commands that build artefacts) both register on :data:`app`; this module imports
neither of them.

Errors: an unknown task / policy / profile / suite, a malformed file or a bad option value prints one red
line naming the bad value (and the choices) and exits 2; an internal error prints one red line and exits 1
(``--debug`` shows the traceback).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ahabench.cli_args import UsageError
from ahabench.envs.camera import DEFAULT_CAMERA_HW
from ahabench.policy import PolicyUnreachableError

app = typer.Typer(name="ahabench", no_args_is_help=True, add_completion=False,
                  help="Evaluate world-action-model robot policies on a deterministic simulated clock.")
console = Console()
err_console = Console(stderr=True)
_STATE = {"debug": False}

# ---- shared options -------------------------------------------------------------------------------
PolicyOpt = Annotated[str, typer.Option("--policy", "-p", help="Registered policy name (see the policies package).")]
TasksOpt = Annotated[str, typer.Option("--tasks", "-t", help="'all', a suite name, or comma-separated task names.")]
EpisodesOpt = Annotated[int, typer.Option("--episodes", "-n", min=1, help="Episodes per task.")]
SettingOpt = Annotated[str, typer.Option("--setting", "-s", help="Scene setting: clean or randomized.")]
ModeOpt = Annotated[str | None, typer.Option("--mode", "-m", help="frozen, blocking or async (default: the policy's default mode).")]
ProfileOpt = Annotated[str, typer.Option("--profile", help="Latency profile: a shipped profile name or a YAML path.")]
LatencyOpt = Annotated[str, typer.Option("--latency", "-l", help="Latency model: profile, measured or roofline.")]
DeviceOpt = Annotated[str | None, typer.Option("--device", help="Device for the roofline latency model (e.g. h100).")]
ScaleOpt = Annotated[float, typer.Option("--latency-scale", help="Multiply every call latency by this factor.")]
FixedOpt = Annotated[float | None, typer.Option("--fixed-ms", help="Charge every call this constant latency (ms) instead.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Eval seed base: seeds start at 100000 * (1 + SEED).")]
SeedsOpt = Annotated[str | None, typer.Option("--seeds", help="Explicit comma-separated seeds for every task (skips the expert-solvable filter).")]
WorkersOpt = Annotated[int, typer.Option("--workers", "-w", min=1, help="Parallel worker processes (results identical to 1).")]
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output directory (default: runs/<policy>_<mode>_<setting>).")]
ImportOpt = Annotated[list[str] | None, typer.Option("--import", help="Python module to import first (registers extra tasks/policies); repeatable.")]
CkptOpt = Annotated[Path | None, typer.Option("--checkpoint", "-c", help="Policy checkpoint, passed to the policy factory as checkpoint=.")]
ExecutorOpt = Annotated[str, typer.Option("--executor", help="Where episodes run: local (this machine's worker processes) or ray (Ray tasks; see --ray-address).")]
RayAddressOpt = Annotated[str | None, typer.Option("--ray-address", help="With --executor ray: none starts a local Ray on --workers CPUs; 'auto' or ray://HOST:PORT joins a running cluster.")]
TaskArgOpt = Annotated[list[str] | None, typer.Option("--task-arg", "-T", help="KEY=VALUE passed to every task's env; repeatable (e.g. level=2 speed=1.5 for the dynamic suite's motion). Recorded in the manifest.")]
CameraOpt = Annotated[str | None, typer.Option("--camera", help=f"Resolution HxW of every camera, e.g. 240x320 (RoboTwin's); default {DEFAULT_CAMERA_HW[0]}x{DEFAULT_CAMERA_HW[1]}.")]


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Map library exceptions to one red line: user errors exit 2, internal errors exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import yaml

        try:
            return fn(*args, **kwargs)
        except typer.Exit:
            raise
        except KeyboardInterrupt:
            err_console.print("[red]interrupted:[/red] finished episodes are saved; continue with --resume")
            raise typer.Exit(130) from None  # reported above as one line
        except PolicyUnreachableError as e:
            if _STATE["debug"]:
                err_console.print_exception()
            err_console.print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None  # reported above as one line
        except (UsageError, KeyError, ValueError, FileNotFoundError, FileExistsError, yaml.YAMLError) as e:
            if _STATE["debug"]:
                err_console.print_exception()
            msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
            err_console.print(f"[red]error:[/red] {msg}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None  # reported above as one line
        except Exception as e:  # noqa: BLE001 - the CLI edge: never dump a traceback on a user by default
            if _STATE["debug"]:
                err_console.print_exception()
            err_console.print(f"[red]internal error:[/red] {type(e).__name__}: {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None  # reported above as one line

    return wrapper


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details (INFO).")] = False,
         debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    """ahabench: success rates and rates of robot policies under realistic inference latency."""
    from rich.logging import RichHandler

    _STATE["debug"] = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING,
                        handlers=[RichHandler(console=err_console, show_path=False)], format="%(message)s", force=True)


def _progress_ctx() -> Any:
    """Progress on stderr: rich bars on a terminal, a plain line at least every 30 s otherwise (ahabench.cli_progress)."""
    from ahabench.cli_progress import progress_ctx

    return progress_ctx(err_console)


def _fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _table(title: str, cols: tuple[str, ...]) -> Table:
    """Compact tables: no cell wrapping (narrow terminals crop the last columns, not every cell)."""
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for i, col in enumerate(cols):
        t.add_column(col, justify="left" if i == 0 else "right", no_wrap=True)
    return t


def _show(t: Table) -> None:
    """Print a table at its natural width: a narrow terminal wraps lines rather than cropping numbers."""
    from rich.measure import Measurement

    natural = Measurement.get(console, console.options.update_width(1000), t).maximum
    if natural <= console.width:
        console.print(t)
    else:  # rich never renders wider than its console: use a wider one on the same stream
        Console(file=console.file, width=natural, force_terminal=console.is_terminal).print(t)
