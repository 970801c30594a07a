"""Small spec builders shared by the plan tests."""

import pytest

from torc_client.core.errors import SpecError
from torc_client.spec import build_plan


def make_spec(*jobs, **extra):
    """A spec with the given jobs (name -> command when given as strings) and top-level keys."""
    entries = [{"name": job, "command": f"echo {job}"} if isinstance(job, str) else job for job in jobs]
    return {"name": "wf", "jobs": entries, **extra}


def job(name, command=None, **keys):
    return {"name": name, "command": command or f"echo {name}", **keys}


def jobs_by_name(plan):
    return {planned.name: planned for planned in plan.jobs}


def spec_error(doc):
    with pytest.raises(SpecError) as caught:
        build_plan(doc)
    return caught.value
