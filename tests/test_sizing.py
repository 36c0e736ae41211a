"""benchmarks/sizing.py: a class's needs by the stated method, from each notebook's largest measured figures."""

import pytest

from benchmarks import sizing


def run(peak_mib, cpu_s, server_mib=89):
    row = {"notebook": "08_real_pretrained_models.ipynb", "peak_rss_mib": peak_mib, "cpu_s": cpu_s, "wall_s": 30.0}
    return {"jupyterlab_server": {"rss_mib": server_mib}, "notebooks": [row]}


def test_class_needs_by_hand():
    needs = sizing.class_needs(peak_rss_mib=1574, server_mib=89, cpu_s=60.8, students=30, minutes=5)
    assert needs["memory_gb"] == pytest.approx(30 * (1574 + 89) * 2**20 / 1e9)  # 52.3 GB
    assert needs["cores"] == pytest.approx(30 * 60.8 / 300)  # 6.08


def test_the_report_gives_ranges_and_sizes_from_the_largest():
    text = sizing.report([run(1565, 54.0), run(1574, 60.8)], students=30, minutes=5)
    assert "| 08 | 1,565 to 1,574 | 54 to 61 | 30 |" in text
    assert "A class of 30 needs about 53 GB and 7 cores for notebook 08" in text
