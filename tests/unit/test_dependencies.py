"""Execution-plan stages and `why` verdicts, with no server (torc_client.analysis.dependencies)."""

from torc_client.analysis import dependencies
from torc_client.contract import (
    JobRef,
    JobWhy,
    MissingInput,
    RootCause,
    StageResources,
)
from torc_client.core.graph import topological_levels

SMALL = StageResources(name="small", num_jobs=0)
BIG = StageResources(name="big", num_jobs=0, num_cpus=8)


def why(status: str = "blocked", **fields) -> JobWhy:
    return JobWhy(job=JobRef(id=4, name="bottom", status=status), workflow_id=1, workflow_initialized=True,
                  workflow_canceled=False, cancel_on_blocking_job_failure=True, num_upstream=2, **fields)  # fmt: skip


def test_stages_count_jobs_per_status_and_per_requirements_and_list_the_first_names():
    upstream = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    group = {"a": "small", "b": "big", "c": "small", "d": "small"}
    status = {"a": "running", "b": "blocked", "c": "blocked", "d": "blocked"}

    found = dependencies.stages(topological_levels(upstream), group.__getitem__, {"small": SMALL, "big": BIG},
                                {n: n.upper() for n in upstream}, 1, status_of=status.__getitem__)  # fmt: skip

    assert [(s.stage, s.num_jobs, s.job_names, s.job_counts) for s in found] == [
        (1, 1, ["A"], {"running": 1}), (2, 2, ["B"], {"blocked": 2}), (3, 1, ["D"], {"blocked": 1})]  # fmt: skip
    assert [(r.name, r.num_jobs, r.num_cpus) for r in found[1].resource_requirements] == [("big", 1, 8),
                                                                                        ("small", 1, 1)]  # fmt: skip


def test_stages_of_a_long_chain_are_listed_up_to_the_cap():
    upstream = {i: [i - 1] if i else [] for i in range(dependencies.MAX_STAGES + 5)}
    found = dependencies.stages(topological_levels(upstream), lambda _: "small", {"small": SMALL},
                                {i: str(i) for i in upstream}, 1)  # fmt: skip
    assert len(found) == dependencies.MAX_STAGES


def test_verdict_names_the_jobs_waited_for_and_the_roots_behind_them():
    answer = why(num_waiting_on=2, num_roots=4, waiting_on=[
        JobRef(id=2, name="left", status="blocked", num_waiting_on=1),
        JobRef(id=3, name="right", status="blocked", num_waiting_on=1)], roots=[
        RootCause(id=1, name="fetch", status="failed", note=dependencies.root_note("failed")),
        RootCause(id=5, name="prep", status="running")])  # fmt: skip
    text = dependencies.verdict(answer)
    assert text.startswith("job 4 (bottom) is blocked: it waits for 2 jobs: left (blocked), right (blocked); "
                           "at the root of those, 4 jobs not blocked: fetch (failed: the jobs waiting on it are "
                           "canceled unless")  # fmt: skip
    assert text.endswith("prep (running) and 2 more")


def test_verdict_mentions_only_the_inputs_that_waiting_will_not_bring():
    produced_later = MissingInput(kind="file", id=1, name="mid", reason="not produced yet",
                                  producer=JobRef(id=2, name="prep", status="running"))  # fmt: skip
    nobody = MissingInput(kind="file", id=2, name="raw", reason="does not exist, and no job writes it")
    answer = why(num_waiting_on=1, waiting_on=[JobRef(id=2, name="prep", status="running")],
                 missing_files=[produced_later, nobody])  # fmt: skip
    assert dependencies.verdict(answer) == ("job 4 (bottom) is blocked: it waits for 1 job: prep (running); "
                                            "1 input missing (file raw: does not exist, and no job writes it)")  # fmt: skip


def test_verdict_of_a_walk_that_stopped_before_any_root_says_so():
    answer = why(num_waiting_on=9000, walk_complete=False, jobs_read=2000,
                 waiting_on=[JobRef(id=2, name="mid_1", status="blocked", num_waiting_on=1)])  # fmt: skip
    assert dependencies.verdict(answer).endswith("and 8,999 more; the walk stopped after reading 2,000 jobs, before "
                                                 "reaching one not blocked")  # fmt: skip
