"""benchmarks/kernel_runs.py counts a cell that ends at its time limit as a stall, not as a normal run.

The case from issue 25: `--plain-client --quiet-limit 45`, 24 executions of notebook 01, reported "0 hangs", yet in
run 1 the `interact` cell took 45.0 s against 0.74 to 0.85 s in the other 23: a lost wake-up, ended by the limit.
"""

from benchmarks import kernel_runs


def test_a_cell_that_ends_at_the_limit_after_its_kernel_finished_is_a_stall():
    assert kernel_runs.cell_outcome(45.0, kernel_seconds=0.8, quiet_limit=45) == "stall"


def test_a_cell_within_the_margin_of_the_limit_is_a_stall():
    almost = 45 - kernel_runs.STALL_MARGIN_S + 0.01
    assert kernel_runs.cell_outcome(almost, kernel_seconds=0.8, quiet_limit=45) == "stall"


def test_a_cell_whose_kernel_times_are_unknown_counts_as_a_stall():
    assert kernel_runs.cell_outcome(45.0, kernel_seconds=None, quiet_limit=45) == "stall"


def test_a_cell_whose_kernel_worked_to_the_limit_is_not_a_normal_run_either():
    assert kernel_runs.cell_outcome(44.7, kernel_seconds=44.69, quiet_limit=45) == "limit"


def test_cells_well_inside_the_limit_are_normal():
    assert [kernel_runs.cell_outcome(s, s, quiet_limit=45) for s in (0.74, 0.85, 30.0, 43.5)] == ["ok"] * 4


def test_an_execution_is_clean_only_without_hangs_and_cells_at_the_limit():
    run = {"notebook": "01_pretrain_source.ipynb", "hung": False, "at_limit": [], "cell_seconds": [0.8, 0.74]}
    assert kernel_runs.clean(run)
    assert not kernel_runs.clean(run | {"at_limit": [{"cell": 39, "outcome": "stall", "seconds": 45.0}]})
    assert not kernel_runs.clean(run | {"hung": True})
