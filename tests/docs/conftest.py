"""The Slurm tutorial runs against the one-machine cluster of tests/slurm."""

from tests.slurm.conftest import slurm_cluster

__all__ = ["slurm_cluster"]
