"""tools.demo: a run's seconds are scaled to the reference machine by the median of its matmul samples."""

import json

import pytest

from tools import demo


def record(total, samples=None, before=None, smoke=False, seconds=None):
    rates = {"before": before or samples[0], "after": (samples or [before])[-1]}
    if samples:
        rates |= {"samples": samples, "median": sorted(samples)[len(samples) // 2]}
    return {
        "smoke": smoke,
        "machine": {"processor": "x86_64"},
        "matmul_gflops": rates,
        "seconds": seconds or {"00_start_here.ipynb": total},
        "total_seconds": total,
    }


def test_a_run_is_scaled_by_its_median_rate_not_its_first_sample():
    run = record(200.0, samples=[101.0, 174.0, 180.0, 150.0, 176.0])  # a slow first sample, as on a shared VM
    assert demo.at_reference(run) == pytest.approx(200.0 * 174.0 / demo.REFERENCE_GFLOPS)


def test_an_older_record_without_samples_is_scaled_by_its_single_rate():
    assert demo.at_reference(record(116.0, before=232.0)) == pytest.approx(232.0)


def test_the_ranges_leave_smoke_runs_out_and_state_the_scaled_totals(tmp_path):
    path = tmp_path / "timings.json"
    runs = [
        record(180.0, samples=[180.0, 190.0, 170.0]),
        record(196.0, samples=[160.0, 150.0, 155.0]),
        record(5.0, samples=[116.0], smoke=True),
    ]
    path.write_text(json.dumps(runs), encoding="utf-8")
    text = demo.timing_ranges(path)
    assert "2 classroom runs" in text
    assert "matmul 155 to 180 GFLOP/s" in text
    assert f"scaled to {demo.REFERENCE_GFLOPS} GFLOP/s: 262 to 279 s" in text  # 196 x 155 / 116 and 180 x 180 / 116


def test_no_recorded_runs_says_what_to_run(tmp_path):
    assert "run `make demo` first" in demo.timing_ranges(tmp_path / "timings.json")
