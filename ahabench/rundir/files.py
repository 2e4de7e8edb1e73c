"""Run-directory files: crash-safe episodes.jsonl, atomic file writes (:mod:`ahabench.fileio`), the run manifest,
and each episode's clock timeline (``timelines/TASK_seedSEED.json.gz``, written at eval time so that reports
only read; a few kB each).

``episodes.jsonl`` is appended one complete line at a time (write, flush, fsync), so a killed run leaves
at most one partial trailing line, which :func:`read_episodes` drops (and can truncate away) on resume.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from ahabench.fileio import atomic_write_text
from ahabench.records import EpisodeRecord

log = logging.getLogger(__name__)

EPISODES = "episodes.jsonl"
MANIFEST = "manifest.json"
TIMELINES = "timelines"
_VERSIONED = ("ahabench", "torch", "sapien", "mani-skill", "mplib", "numpy", "gymnasium", "pandas")


class EpisodeWriter:
    """Appends one :class:`EpisodeRecord` per line, durably."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = open(self.path, "a", encoding="utf-8")

    def write(self, rec: EpisodeRecord) -> None:
        # One write call of the complete line: a kill can cut it short but never interleave two records.
        self._f.write(rec.to_json() + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> EpisodeWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def read_episodes(path: Path, repair: bool = False) -> list[EpisodeRecord]:
    """Read complete records; a trailing line without newline (a killed write) is ignored.

    repair=True truncates the file to its last complete line, so appends continue cleanly.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        log.warning("%s: ignoring a partial last line (%d bytes), from an interrupted run", path, len(data) - end)
        if repair:
            with open(path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
    out = []
    for i, line in enumerate(data[:end].decode("utf-8").splitlines()):
        if not line.strip():
            continue
        try:
            out.append(EpisodeRecord.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as e:
            raise ValueError(f"{path}:{i + 1}: not an episode record ({e})") from e
    return out


def write_sorted_episodes(path: Path, records: Iterable[EpisodeRecord]) -> list[EpisodeRecord]:
    """Rewrite episodes.jsonl sorted by (task, seed): the deterministic order of a finished run."""
    recs = sorted(records, key=lambda r: (r.task, r.seed))
    atomic_write_text(Path(path), "".join(r.to_json() + "\n" for r in recs))
    return recs


def git_commit(repo: Path | None = None) -> dict[str, Any]:
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError) as e:
        return {"commit": None, "dirty": None, "error": str(e)}
    if sha.returncode != 0:
        return {"commit": None, "dirty": None, "error": sha.stderr.strip()}
    return {"commit": sha.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def host_info() -> dict[str, Any]:
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
    }


@dataclass(frozen=True)
class Manifest:
    """What ``manifest.json`` holds: the run's configuration (the fields of ``RunConfig`` as written; a run made by an
    older ahabench lacks the newer ones, so it stays a mapping read with :meth:`get`), the planned seeds per task, and
    where and when the run was made."""

    config: dict[str, Any]
    seeds: dict[str, list[int]]
    versions: dict[str, str | None] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    host: dict[str, Any] = field(default_factory=dict)
    created_utc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # any other top-level key, kept as read

    def get(self, key: str, default: Any = None) -> Any:
        """One configuration value (``policy``, ``mode``, ``profile``, ...)."""
        return self.config.get(key, default)

    @property
    def checkpoint(self) -> str | None:
        """The policy checkpoint the run was made with (``--checkpoint``), if any."""
        return (self.config.get("policy_kwargs") or {}).get("checkpoint")

    @property
    def episodes_per_task(self) -> int | None:
        return max((len(v) for v in self.seeds.values()), default=self.config.get("episodes"))

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "seeds": self.seeds, "versions": self.versions, "git": self.git, "host": self.host,
                "created_utc": self.created_utc, **self.extra}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Manifest:
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: d[k] for k in known if k in d}, extra={k: v for k, v in d.items() if k not in known})


def write_manifest(out: Path, config: dict[str, Any], seeds: dict[str, list[int]], extra: dict | None = None) -> Manifest:
    """Write ``out/manifest.json`` for a run of ``config`` on ``seeds``, stamped with versions, git state and host."""
    manifest = Manifest(config=config, seeds=seeds, versions=package_versions(), git=git_commit(), host=host_info(),
                        created_utc=datetime.now(UTC).isoformat(timespec="seconds"), extra=dict(extra or {}))
    atomic_write_text(Path(out) / MANIFEST, json.dumps(manifest.to_dict(), indent=2, sort_keys=True))
    return manifest


def read_manifest(run_dir: Path) -> Manifest:
    p = Path(run_dir) / MANIFEST
    if not p.exists():
        raise FileNotFoundError(f"{run_dir} is not a run directory: no {MANIFEST}")
    return Manifest.from_dict(json.loads(p.read_text()))


def timeline_path(run_dir: Path, task: str, seed: int) -> Path:
    return Path(run_dir) / TIMELINES / f"{task}_seed{seed}.json.gz"


def write_timeline(run_dir: Path, task: str, seed: int, timeline: Any) -> Path:
    """Store a :class:`~ahabench.clock.timeline.Timeline` (gzip, fixed mtime: the bytes depend only on it)."""
    path = timeline_path(run_dir, task, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(gzip.compress(json.dumps(timeline.to_dict(), sort_keys=True).encode(), mtime=0))
    os.replace(tmp, path)
    return path


def read_timeline(run_dir: Path, task: str, seed: int) -> Any | None:
    """The stored timeline of one episode (None when the run has none: runs from before timelines were kept)."""
    from ahabench.clock.timeline import Timeline

    path = timeline_path(run_dir, task, seed)
    plain = path.with_suffix("")  # TASK_seedSEED.json: written by reports of older versions
    if path.exists():
        return Timeline.from_dict(json.loads(gzip.decompress(path.read_bytes())))
    if plain.exists():
        return Timeline.from_dict(json.loads(plain.read_text()))
    return None
