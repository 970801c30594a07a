"""The job runner: claims jobs through the API, runs them, reports what happened.

It is stateless and talks only to the API, through `torc_client`.
"""

from runner.loop import JobRunner, RunSummary

__all__ = ["JobRunner", "RunSummary"]
