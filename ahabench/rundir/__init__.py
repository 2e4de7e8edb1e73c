"""The run directory: the one module the engine writes through and the reports read through.

A run directory holds ``manifest.json`` (the typed :class:`Manifest`: config, seeds, versions, git), ``episodes.jsonl``
(one :class:`~ahabench.records.EpisodeRecord` per line), ``summary.csv|json`` (:func:`summarize`) and the clock
timeline of every episode (``timelines/``), all written at eval time. Reports only read these files: none of them
runs a simulator or imports the engine.
"""

from ahabench.rundir.files import (
    EPISODES,
    MANIFEST,
    TIMELINES,
    EpisodeWriter,
    Manifest,
    git_commit,
    host_info,
    package_versions,
    read_episodes,
    read_manifest,
    read_timeline,
    timeline_path,
    write_manifest,
    write_sorted_episodes,
    write_timeline,
)
from ahabench.rundir.summary import (
    OVERALL,
    GroupSummary,
    load_summary,
    summarize,
    summarize_group,
    summary_to_csv,
    summary_to_json,
    write_summary,
)

__all__ = [
    "EPISODES", "MANIFEST", "OVERALL", "TIMELINES", "EpisodeWriter", "GroupSummary", "Manifest",
    "git_commit", "host_info", "load_summary", "package_versions", "read_episodes", "read_manifest", "read_timeline",
    "summarize", "summarize_group", "summary_to_csv", "summary_to_json", "timeline_path", "write_manifest",
    "write_sorted_episodes", "write_summary", "write_timeline",
]
