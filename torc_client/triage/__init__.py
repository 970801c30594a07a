"""Triage of a workflow's failures: which jobs failed the same way, from their logs and from Slurm's.

`patterns` (the known causes), `families` and `slurm_logs` are pure and unit-tested;
`collect` finds and reads the files.
"""
