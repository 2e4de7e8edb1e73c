"""Policies in other processes: `ahabench serve` + `remote`, the `openpi` client, and their failure modes.

Every server here is a real process on 127.0.0.1 started by the test (tests/serving.py).
"""

from __future__ import annotations

import time

import msgpack
import numpy as np
import pytest
from openpi_client import msgpack_numpy

from ahabench.api import eval_run
from ahabench.policy import PolicyUnreachableError
from ahabench.serve import wire
from ahabench.task_registry import task_spec
from serving import BOUNDED_TASK, ahabench_serve, running, scripted
from test_run import FAKE_TASK

FAKE_SEEDS = {FAKE_TASK: [0, 1, 2]}


def _eval(tmp_path, name, policy, tasks, seeds, **kw):
    return eval_run(policy=policy, tasks=tasks, episodes=len(next(iter(seeds.values()))), seeds=seeds,
                    out=tmp_path / name, imports=["serving"], **kw)


# ---- the wire format ------------------------------------------------------------------------------------------
def test_arrays_cross_in_openpi_layout_both_ways():
    msg = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "img": np.zeros((4, 5, 3), np.uint8), "s": "x",
           "n": np.int64(7)}
    ours = wire.unpack(msgpack_numpy.packb(msg))  # openpi packs, we read
    theirs = msgpack_numpy.unpackb(wire.pack(msg))  # we pack, openpi reads
    for got in (ours, theirs):
        assert got["a"].dtype == np.float32 and np.array_equal(got["a"], msg["a"])
        assert got["img"].shape == (4, 5, 3) and got["s"] == "x" and got["n"] == 7
    assert ours["a"].flags.writeable


def test_non_numeric_arrays_are_refused_never_unpickled():
    evil = msgpack.packb({"x": {b"__ndarray__": True, b"data": b"\x80\x04K\x01.", b"dtype": "|O", b"shape": [1]}})
    with pytest.raises(wire.WireError, match="refusing array dtype object"):
        wire.unpack(evil)
    with pytest.raises(wire.WireError, match="text instead of a message.*boom"):
        wire.unpack("Traceback ...\nValueError: boom")


# ---- serve + remote ------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("policy,mode", [("aha-wam", "async"), ("fast-wam", "blocking")])
def test_served_policy_gives_byte_identical_episodes(tmp_path, policy, mode):
    """Under the profile latency a served policy's episodes are exactly the in-process ones (and the records carry
    the served policy's name, so the profile times its calls)."""
    seeds = {"click_bell": [5000]}
    _eval(tmp_path, "local", policy, ["click_bell"], seeds, mode=mode)
    with running(ahabench_serve("--policy", policy)) as (_proc, url):
        remote = _eval(tmp_path, "remote", "remote", ["click_bell"], seeds, mode=mode, policy_kwargs={"url": url})
    assert remote.records[0].policy == policy and remote.records[0].error is None
    assert (tmp_path / "remote/episodes.jsonl").read_bytes() == (tmp_path / "local/episodes.jsonl").read_bytes()


def test_remote_policy_takes_spec_and_costs_from_the_server():
    from ahabench.policy_registry import make_policy

    with running(ahabench_serve("--policy", "hold")) as (_proc, url):
        remote = make_policy("remote", url=url)
        local = make_policy("hold")
        try:
            assert remote.spec == local.spec
            assert remote.cost("call") == local.cost("call")
        finally:
            remote.close()


def test_api_key_is_required_when_set_and_loopback_is_the_default(tmp_path):
    from ahabench.policy_registry import make_policy

    with running(ahabench_serve("--policy", "hold", "--api-key", "s3cret")) as (_proc, url):
        assert url.startswith("ws://127.0.0.1:")
        for key in (None, "wrong"):
            with pytest.raises(PolicyUnreachableError, match="refused the connection.*API key"):
                make_policy("remote", url=url, api_key=key)
        res = _eval(tmp_path, "ok", "remote", [FAKE_TASK], FAKE_SEEDS, policy_kwargs={"url": url, "api_key": "s3cret"})
    assert [r.error for r in res.records] == [None] * 3


def test_server_binds_loopback_unless_told():
    from ahabench.serve.server import PolicyServer

    server = PolicyServer("hold", port=0)
    try:
        assert server._server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        server.shutdown()
    with pytest.raises(ValueError, match="privileged"):
        PolicyServer("expert", port=0)


# ---- faults --------------------------------------------------------------------------------------------------
def test_unreachable_server_is_one_line_exit_2_naming_the_url(tmp_path):
    from typer.testing import CliRunner

    from ahabench.cli import app

    url = "ws://127.0.0.1:9"  # the discard port: nothing listens there
    t0 = time.monotonic()
    res = CliRunner().invoke(app, ["eval", "-p", "remote", "-P", f"url={url}", "-P", "connect_timeout=2", "-t", "click_bell",
                                   "--seeds", "5000", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and time.monotonic() - t0 < 30
    assert f"cannot reach policy server {url}" in res.output and len(res.output.strip().splitlines()) == 1
    with pytest.raises(PolicyUnreachableError, match=url):
        from ahabench.policy_registry import make_policy

        make_policy("openpi", port=9, connect_timeout=1)


def test_a_server_dying_mid_episode_records_it_and_the_run_stops_keeping_what_it_has(tmp_path):
    with running(scripted("ahabench", "--fault", "die")) as (proc, url):
        with pytest.raises(PolicyUnreachableError, match="stopped after 1 of 3 episodes.*--resume"):
            _eval(tmp_path, "r", "remote", [FAKE_TASK], FAKE_SEEDS, policy_kwargs={"url": url, "connect_timeout": 1})
        assert proc.wait(timeout=10) == 3
    lines = (tmp_path / "r/episodes.jsonl").read_text().splitlines()
    assert len(lines) == 1 and "connection to" in lines[0] and "lost" in lines[0]
    # the server is back (the same port): --resume runs the rest
    port = url.rsplit(":", 1)[1]
    with running(scripted("ahabench", "--port", port)):
        res = _eval(tmp_path, "r", "remote", [FAKE_TASK], FAKE_SEEDS, policy_kwargs={"url": url, "connect_timeout": 1},
                    resume=True)
    assert [r.error is None for r in res.records] == [False, True, True]


def test_a_restarted_server_is_reconnected_for_the_next_episode(tmp_path):
    import threading

    with running(scripted("ahabench", "--fault", "die")) as (proc, url):
        port = url.rsplit(":", 1)[1]
        box = {}

        def supervisor() -> None:  # restarts the server on its port when it dies, as systemd or k8s would
            proc.wait()
            box["ctx"] = running(scripted("ahabench", "--port", port))
            box["ctx"].__enter__()

        threading.Thread(target=supervisor, daemon=True).start()
        try:
            res = _eval(tmp_path, "r", "remote", [FAKE_TASK], FAKE_SEEDS, policy_kwargs={"url": url, "connect_timeout": 20})
        finally:
            if "ctx" in box:
                box["ctx"].__exit__(None, None, None)
    assert res.records[0].error_kind == "crash" and "lost" in res.records[0].error
    assert [r.error for r in res.records[1:]] == [None, None]


@pytest.mark.parametrize("protocol", ["openpi", "ahabench"])
@pytest.mark.parametrize("fault,kind,needle", [
    ("nan", "bad_action", "non-finite action nan at chunk row 1, dim 0"),
    ("shape", "bad_action", "shape (16, 1); want (n >= 1, 2)"),
    ("range", "bad_action", "action 50.0 at chunk row 0, dim 0, outside the high bound 1.5"),
    ("string", "bad_action", "'actions' of type str: 'left a bit'"),
    ("no-actions", "bad_action", "no 'actions' field"),
])
def test_malformed_replies_are_recorded_failures_naming_the_fault(tmp_path, protocol, fault, kind, needle):
    policy, kw = ("openpi", {"chunk_len": 16, "execute": 8, "profile_name": "hold"}) if protocol == "openpi" else ("remote", {})
    with running(scripted(protocol, "--fault", fault)) as (_proc, url):
        res = _eval(tmp_path, "r", policy, [BOUNDED_TASK], {BOUNDED_TASK: [0]}, policy_kwargs={"url": url, **kw})
    rec = res.records[0]
    assert not rec.success_once and rec.error_kind == kind and needle in rec.error, rec.error


def test_a_reply_slower_than_the_timeout_fails_that_episode(tmp_path):
    with running(scripted("ahabench", "--fault", "slow")) as (_proc, url):
        res = _eval(tmp_path, "r", "remote", [BOUNDED_TASK], {BOUNDED_TASK: [0]}, policy_kwargs={"url": url, "timeout": 1})
    assert res.records[0].error_kind == "crash" and "within 1 s" in res.records[0].error


# ---- openpi ----------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_openpi_runs_a_full_episode_in_the_aloha_layout(tmp_path):
    """The scripted server refuses any request not in openpi's ALOHA layout (text frame): a clean full episode means
    every request had it."""
    with running(scripted("openpi")) as (_proc, url):
        host, port = url[len("ws://"):].split(":")
        res = _eval(tmp_path, "r", "openpi", ["click_bell"], {"click_bell": [5000]},
                    policy_kwargs={"host": host, "port": int(port), "chunk_len": 16, "execute": 8, "profile_name": "pi0.5"})
    rec = res.records[0]
    assert rec.error is None and rec.policy == "pi0.5" and not rec.success_once
    steps = task_spec("click_bell").max_steps
    # blocking: each cycle executes 8 actions, then waits for the next call, timed as pi0.5 (180 ms) by the profile
    assert rec.ticks == steps and rec.chunk_ms_p50 == 180.0 and rec.n_chunks > steps // 16


def test_openpi_server_errors_and_keymaps(tmp_path):
    keymap = tmp_path / "keys.yaml"
    keymap.write_text("image_layout: HWC\n")  # the scripted server wants CHW: it answers with a traceback
    with running(scripted("openpi")) as (_proc, url):
        res = _eval(tmp_path, "r", "openpi", [FAKE_TASK], {FAKE_TASK: [0]},
                    policy_kwargs={"url": url, "keymap": str(keymap), "chunk_len": 16, "execute": 8, "profile_name": "hold"})
    assert res.records[0].error_kind == "crash" and "the openpi server failed: ValueError: image cam_high" in res.records[0].error
    keymap.write_text("image_layout: sideways\n")
    with pytest.raises(ValueError, match="image_layout must be CHW or HWC, got 'sideways'"):
        from ahabench.policy_registry import make_policy

        make_policy("openpi", keymap=str(keymap))


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_serve_stops_cleanly_on_ctrl_c_and_sigterm(sig):
    import signal

    with running(ahabench_serve("--policy", "hold")) as (proc, _url):
        proc.send_signal(getattr(signal, sig))
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        proc.pump.join(timeout=10)
        err = proc.stderr.read()
    assert any("stopped after" in line for line in proc.stdout_lines) and "Traceback" not in err
