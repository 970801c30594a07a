"""`python -m bench.ab`: the order of the paired runs and what their summary says."""

from bench.ab import order, summarise


def test_sides_take_turns_first_each_pair_so_a_drifting_host_favours_neither():
    assert order(3) == [(0, "a"), (0, "b"), (1, "b"), (1, "a"), (2, "a"), (2, "b")]


def _run(rate: float, database_cores: float) -> dict[str, float]:
    return {"rate": rate, "seconds": 10_000 / rate, "cpu database": database_cores, "cpu runners": 0.2}


def test_summary_compares_neighbouring_runs_not_the_medians_of_each_side():
    # The host halves its speed after the first pair: each side's median mixes the two speeds,
    # the paired ratios do not.
    runs = {"a": [_run(600, 0.6), _run(300, 0.3), _run(300, 0.3)],
            "b": [_run(540, 0.6), _run(270, 0.3), _run(270, 0.3)]}  # fmt: skip
    lines = summarise(runs, {"a": "d5b6178", "b": "working tree"})
    assert lines[0] == "| pair | d5b6178 (jobs/s) | working tree (jobs/s) | working tree ÷ d5b6178 |"
    assert lines[2] == "| 1 | 600 | 540 | 0.90 |"
    assert lines[5] == "| median | 300 | 270 | **0.90** (0.90–0.90) |"
    # CPU per job: 0.6 cores at 600 jobs/s is 1 ms a job; 0.6 at 540 is 1.11 ms.
    assert "| database | 1.00 | 1.11 |" in lines
    assert "| runners | 0.67 | 0.74 |" in lines  # 0.2 cores at a median 300 and 270 jobs/s
