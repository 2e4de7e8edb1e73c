"""Latency models: the shipped paper profile, profile validation, jitter, measured, roofline, fixed, scale."""

from __future__ import annotations

import statistics

import pytest

from ahabench.latency import CallRequest, ProfileError, RooflineLatency, list_profiles, load_profile, make_latency_model
from ahabench.policy import CallCost

PAPER = {
    "fast-wam": {"call": 190.0}, "fast-wam-joint": {"call": 580.0}, "fast-wam-idm": {"call": 810.0},
    "pi0.5": {"call": 180.0}, "motus": {"call": 1866.10},
    "aha-wam": {"prefill": 34.59, "chunk": 41.37}, "aha-wam-eager": {"prefill": 61.15, "chunk": 415.77},
    "aha-wam-steps1": {"prefill": 34.59, "chunk": 14.67}, "aha-wam-steps2": {"prefill": 34.59, "chunk": 17.56},
    "aha-wam-steps4": {"prefill": 34.59, "chunk": 23.45}, "aha-wam-steps10": {"prefill": 34.59, "chunk": 41.37},
    "aha-wam-flash": {"prefill": 34.59, "chunk": 17.56}, "naive-async": {"prefill": 34.59, "chunk": 41.37},
    "expert": {"call": 41.37}, "hold": {"call": 1.0},
}


def req(policy="aha-wam", call="chunk", index=0, seed=0, **kw):
    return CallRequest(policy=policy, call=call, index=index, seed=seed, **kw)


def test_paper_profile_ships_every_published_figure():
    assert "rtx5090d-paper" in list_profiles()
    prof = load_profile("rtx5090d-paper")
    assert prof.name == "rtx5090d-paper" and prof.devices == ("gpu0",)
    assert prof.latency_ms == PAPER
    m = make_latency_model("profile", "rtx5090d-paper")
    assert m.duration_us(req()) == 41_370 and m.duration_us(req(call="prefill")) == 34_590
    assert m.duration_us(req("motus", "call")) == 1_866_100
    assert (m.kind, m.name, m.reproducible) == ("profile", "rtx5090d-paper", True)
    assert make_latency_model("profile").name == "rtx5090d-paper"  # the default profile


def test_scale_and_fixed_delay():
    assert make_latency_model("profile", "rtx5090d-paper", scale=2.0).duration_us(req("fast-wam", "call")) == 380_000
    fixed = make_latency_model("profile", "rtx5090d-paper", fixed_ms=100)
    assert (fixed.kind, fixed.name) == ("fixed", "fixed-100ms")
    assert fixed.duration_us(req("anything", "prefill")) == 100_000
    assert make_latency_model("fixed", fixed_ms=0).duration_us(req()) == 0
    with pytest.raises(ValueError, match="-1"):
        make_latency_model("profile", scale=-1)
    with pytest.raises(ValueError, match="'bogus'"):
        make_latency_model("bogus")


def write(tmp_path, text, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, needle", [
    ("name: x\nlatency_ms: {a: {call: 1.0}\n", "malformed YAML"),
    ("name: x\nlatency_ms: {a: {call: 1.0}}\nspeed: 3\n", "'speed'"),
    ("name: x\nlatency_ms: {a: {call: -5}}\n", "-5"),
    ("name: x\nlatency_ms: {a: {call: .nan}}\n", "nan"),
    ("name: x\nlatency_ms: {a: {call: fast}}\n", "'fast'"),
    ("latency_ms: {a: {call: 1}}\n", "'name'"),
    ("name: x\nlatency_ms: {a: {call: 1}}\njitter: {kind: gamma}\n", "'gamma'"),
    ("name: x\nlatency_ms: {a: {call: 1}}\njitter: {kind: lognormal, sigma: 1, mu: 2}\n", "'mu'"),
    ("- 1\n- 2\n", "mapping"),
])
def test_malformed_profiles_are_rejected_naming_value_and_file(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(ProfileError, match=needle) as e:
        load_profile(path)
    assert path in str(e.value)
    assert isinstance(e.value, ValueError)


def test_missing_policy_or_call_and_unknown_profile(tmp_path):
    path = write(tmp_path, "name: mine\nlatency_ms:\n  aha-wam: {prefill: 30}\n")
    m = make_latency_model("profile", path)
    with pytest.raises(ProfileError, match="'fast-wam'.*mine") as e:
        m.check("fast-wam", ("call",))
    assert path in str(e.value)
    with pytest.raises(ProfileError, match="call 'chunk' of policy 'aha-wam'"):
        m.check("aha-wam", ("prefill", "chunk"))
    with pytest.raises(ProfileError, match="'rtx9090'.*rtx5090d-paper"):
        load_profile("rtx9090")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(str(tmp_path / "nope.yaml"))


def test_jitter_is_seeded_per_episode_call_and_index_not_order(tmp_path):
    path = write(tmp_path, "name: j\nlatency_ms: {aha-wam: {prefill: 30, chunk: 40}}\n"
                           "jitter: {kind: lognormal, sigma: 0.2}\n")
    m = make_latency_model("profile", path)
    keys = [(s, c, i) for s in (1, 2) for c in ("prefill", "chunk") for i in range(20)]
    forward = {k: m.duration_us(req(call=k[1], index=k[2], seed=k[0])) for k in keys}
    backward = {k: make_latency_model("profile", path).duration_us(req(call=k[1], index=k[2], seed=k[0]))
                for k in reversed(keys)}
    assert forward == backward
    assert forward[(1, "chunk", 0)] != forward[(2, "chunk", 0)] != forward[(2, "chunk", 1)]
    draws = [m.duration_us(req(index=i, seed=3)) for i in range(2001)]
    assert statistics.median(draws) == pytest.approx(40_000, rel=0.03)  # median-preserving lognormal
    assert min(draws) > 0
    # sigma 0 (the shipped profile) and an explicit override
    assert make_latency_model("profile", path, jitter_sigma=0.0).duration_us(req(index=5)) == 40_000


def test_measured_charges_wall_time_and_is_not_reproducible():
    m = make_latency_model("measured")
    assert m.duration_us(req(wall_s=0.0123)) == 12_300
    assert make_latency_model("measured", scale=0.5).duration_us(req(wall_s=0.0123)) == 6_150
    assert m.reproducible is False and m.kind == "measured"


def test_roofline_is_max_of_compute_and_memory_time_plus_overhead():
    m = make_latency_model("roofline", device="h100")  # 989.4 TFLOPS, 3350 GB/s, efficiency 0.5
    compute_bound = CallCost(flops=1e12, bytes=1e9)
    assert m.call_ms(compute_bound.flops, compute_bound.bytes) == pytest.approx(1e12 / 494.7e12 * 1e3)
    memory_bound = CallCost(flops=1e9, bytes=1e10)
    assert m.call_ms(memory_bound.flops, memory_bound.bytes) == pytest.approx(1e10 / 1675e9 * 1e3)
    over = RooflineLatency("jetson-agx-orin", efficiency=1.0, overhead_ms=2.0)
    assert over.duration_us(req(cost=lambda: CallCost(42.5e9, 0.0))) == 3_000  # 1 ms at peak + 2 ms
    # slower device -> slower call
    costs = {"chunk": CallCost(5e12, 2e9)}
    ms = {d: RooflineLatency(d).base_ms(req(cost=lambda: costs["chunk"]))
          for d in ("h100", "rtx5090d", "jetson-agx-orin")}
    assert ms["h100"] < ms["rtx5090d"] < ms["jetson-agx-orin"]


def test_roofline_check_needs_costs_and_names_bad_device():
    m = make_latency_model("roofline")
    assert m.name == "rtx5090d"

    def cost(call):
        if call == "prefill":
            return CallCost(1e12, 1e9)
        raise NotImplementedError("no cost")

    with pytest.raises(ValueError, match="call 'chunk'"):
        m.check("aha-wam", ("prefill", "chunk"), cost=cost)
    with pytest.raises(ValueError, match="'tpu9'.*h100"):
        make_latency_model("roofline", device="tpu9")
    with pytest.raises(ValueError, match="efficiency"):
        make_latency_model("roofline", efficiency=0.0)
