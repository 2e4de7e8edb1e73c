"""`ahabench speedup`: the published ratio, the roofline ratio at paper scale, and the line between them."""

from __future__ import annotations

import json

import pytest

from ahabench.bench.speedup import speedup_markdown, speedup_table


def test_profile_and_roofline_rows_and_the_architecture_line():
    t = speedup_table("aha-wam", "fast-wam", devices=["rtx5090d", "h100"], measure=False)
    rows = {(r["source"], r["device"]): r for r in t["rows"]}
    prof = rows[("profile", "rtx5090d-paper")]
    assert prof["speedup"] == pytest.approx(190.0 / 41.37)  # the published 4.59x
    assert prof["speedup_per_action"] == pytest.approx((190.0 / 24) / (41.37 / 16))
    roof = rows[("roofline (paper size)", "rtx5090d")]
    assert roof["a_parts_ms"]["prefill"] is None and roof["b_parts_ms"]["ovcr"] is None  # the planner runs apart
    assert 1.0 < roof["speedup"] < prof["speedup"]
    assert rows[("roofline (paper size)", "h100")]["a_call_ms"] < roof["a_call_ms"]  # a faster device
    assert t["architecture"] == pytest.approx(roof["speedup"])
    assert t["engineering"] == pytest.approx(prof["speedup"] / roof["speedup"])
    assert "architecture alone gives" in t["line"] and f"{prof['speedup']:.2f}x" in t["line"]
    md = speedup_markdown(t)
    assert md.count("\n|") >= 4 and json.loads(json.dumps(t))["published"] == pytest.approx(prof["speedup"])


def test_unknown_policy_is_named():
    with pytest.raises(KeyError, match="unknown policy 'nope'"):
        speedup_table("nope", "fast-wam", measure=False)


def test_cli_prints_the_table_and_measured_row(tmp_path):
    from typer.testing import CliRunner

    from ahabench.cli import app

    res = CliRunner().invoke(app, ["speedup", "aha-wam", "fast-wam", "--device", "rtx5090d", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "4.59x" in res.output and "measured" in res.output and (tmp_path / "speedup.json").exists()
