"""GPUs of their own: each running job gets device ids no other running job has.

The runner numbers the GPUs it was given (detected, or `--num-gpus N`) 0..N-1, hands a job
that asks for `num_gpus` the lowest free ids, and takes them back when the job ends. The
job sees only its own through the usual visibility variables (NVIDIA, AMD ROCm and HIP);
a job that asks for none sees none. GPUs are counted per node: in an allocation of several
nodes, a runner's ids name the GPUs of its own node, as Slurm's `SLURM_GPUS_ON_NODE` does.
"""

from __future__ import annotations

#: The variables that say which GPUs a process may use, for NVIDIA CUDA, AMD ROCm and HIP.
VISIBILITY = ("CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES")


class GpuPool:
    """The GPU ids of one runner, free or held by a job."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._free = list(range(count))
        self._held: dict[int, list[int]] = {}

    def take(self, job_id: int, wanted: int) -> list[int]:
        """The lowest `wanted` free ids, now held by `job_id` (fewer when fewer are free: the claim never allows it)."""
        ids, self._free = self._free[:wanted], self._free[wanted:]
        self._held[job_id] = ids
        return ids

    def give_back(self, job_id: int) -> None:
        self._free = sorted(self._free + self._held.pop(job_id, []))

    def held(self, job_id: int) -> list[int]:
        return self._held.get(job_id, [])

    def describe(self) -> str:
        if not self.count:
            return ""
        return (f"GPUs 0-{self.count - 1}" if self.count > 1 else "GPU 0") + \
            ": each job sees only its own (CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES, HIP_VISIBLE_DEVICES)"


def visibility(ids: list[int]) -> dict[str, str]:
    """The environment that shows a job exactly the GPUs `ids` (an empty value hides them all)."""
    value = ",".join(str(i) for i in ids)
    return {name: value for name in VISIBILITY}
