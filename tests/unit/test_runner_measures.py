"""The runner's pure parts of isolation and monitoring: GPU ids, time series bounds, a job's final figures, srun lines."""

from __future__ import annotations

import resource

from runner import series
from runner.launch.devices import GpuPool, visibility
from runner.launch.srun import srun_command
from runner.monitor import Usage, figures
from torc_client import contract as c


def test_gpu_pool_never_gives_one_id_to_two_jobs_and_reuses_freed_ones() -> None:
    pool = GpuPool(4)
    assert pool.take(1, 2) == [0, 1]
    assert pool.take(2, 1) == [2]
    pool.give_back(1)
    assert pool.take(3, 3) == [0, 1, 3]
    assert pool.take(4, 0) == []
    assert visibility(pool.held(3)) == {"CUDA_VISIBLE_DEVICES": "0,1,3", "ROCR_VISIBLE_DEVICES": "0,1,3",
                                        "HIP_VISIBLE_DEVICES": "0,1,3"}  # fmt: skip
    assert visibility([])["CUDA_VISIBLE_DEVICES"] == ""


def test_series_keeps_one_point_per_interval_and_halves_when_full(monkeypatch) -> None:
    monkeypatch.setattr(series, "MAX_POINTS", 8)
    kept = series.Series(1.0)
    for tenth in range(0, 200):  # sampled every 0.1 s for 20 s
        kept.add(tenth / 10, 50.0, tenth * 1000, 1)
    times = [p.t for p in kept.points]
    assert len(times) < 8 and times == sorted(times)
    assert max(p.memory_bytes for p in kept.points) >= 190 * 1000  # merging keeps the larger memory of a pair


def _rusage(maxrss_kib: int, cpu_seconds: float) -> resource.struct_rusage:
    fields = [0.0] * 16
    fields[0], fields[2] = cpu_seconds, maxrss_kib
    return resource.struct_rusage(fields)


def test_figures_of_a_job_with_no_sample_come_from_its_rusage() -> None:
    out = figures(Usage(), elapsed=2.0, rusage=_rusage(51200, 1.0))
    assert out == {"peak_memory_bytes": 50 * 2**20, "avg_memory_bytes": 50 * 2**20, "avg_cpu_percent": 50.0,
                   "peak_cpu_percent": 50.0}  # fmt: skip


def test_a_largest_resident_set_no_larger_than_the_runners_own_is_left_out() -> None:
    # A job's process holds the runner's pages from its fork until it runs its command: the kernel counts them.
    out = figures(Usage(), elapsed=2.0, rusage=_rusage(51200, 1.0), inherited_bytes=60 * 2**20)
    assert "peak_memory_bytes" not in out or out["peak_memory_bytes"] in (0, None)
    assert figures(Usage(), elapsed=2.0, rusage=_rusage(51200, 1.0), inherited_bytes=40 * 2**20)[
        "peak_memory_bytes"] == 50 * 2**20  # fmt: skip


def test_figures_take_the_largest_peak_of_samples_rusage_and_cgroup() -> None:
    usage = Usage()
    usage.add(10 * 2**20, None)
    usage.add(30 * 2**20, 180.0)
    out = figures(usage, elapsed=1.0, rusage=_rusage(1024, 0.5), peak_bytes=40 * 2**20)
    assert out["peak_memory_bytes"] == 40 * 2**20
    assert out["avg_memory_bytes"] == 20 * 2**20
    assert (out["avg_cpu_percent"], out["peak_cpu_percent"]) == (50.0, 180.0)


def _job(**fields) -> c.ClaimedJob:
    values = dict(id=7, workflow_id=1, name="train", command="x", invocation_script=None, run_id=1, attempt_id=1,
                  claim_token="t", resource_requirements_id=1, num_cpus=4, num_gpus=2, num_nodes=1,
                  memory_bytes=3 * 2**30, runtime_s=60.0)  # fmt: skip
    return c.ClaimedJob(**{**values, **fields})


def test_srun_command_asks_for_exactly_the_jobs_cpus_memory_and_gpus() -> None:
    assert srun_command(_job(), "python train.py", gres=True) == [
        "srun", "--exact", "--ntasks=1", "--nodes=1", "--cpus-per-task=4", "--job-name=train", "--quiet",
        "--mem=3072M", "--gres=gpu:2", "bash", "-c", "python train.py"]  # fmt: skip
    unstated = srun_command(_job(memory_bytes=2**20, num_gpus=0), "true")
    assert not any(arg.startswith("--mem=") or arg.startswith("--gres") for arg in unstated)
    assert "--mem=500M" in srun_command(_job(memory_bytes=2**20), "true", share=500)
