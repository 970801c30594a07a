"""Dependency answers as tables: `torc jobs why` and `torc workflows execution-plan` (JSON is the record itself)."""

from __future__ import annotations

from rich.text import Text

from torc_client.cli import render
from torc_client.contract import (
    ExecutionPlan,
    JobWhy,
    PlanStage,
    StageResources,
)
from torc_client.core.units import count


def show_why(why: JobWhy, fmt: str) -> None:
    """The verdict, then the jobs it waits on, the roots behind them and the missing inputs, each as a table."""
    if fmt == "json":
        render.print_json(why)
        return
    out = render.console()
    out.print(Text(why.verdict))
    if why.waiting_on:
        out.print(Text(f"\nWaits on ({_shown(len(why.waiting_on), why.num_waiting_on)}):"))
        out.print(render.records_table(why.waiting_on, [
            ("ID", lambda r: r.id), ("Name", lambda r: r.name), ("Status", lambda r: r.status),
            ("Waits On", lambda r: r.num_waiting_on or "")]))  # fmt: skip
    if why.roots and any(r.num_waiting_on for r in why.waiting_on):
        total = why.num_roots if why.walk_complete else f"at least {why.num_roots}, after reading {why.jobs_read} jobs"
        out.print(Text(f"\nUnfinished jobs that are not blocked, at the root ({_shown(len(why.roots), total)}):"))
        out.print(render.records_table(why.roots, [
            ("ID", lambda r: r.id), ("Name", lambda r: r.name), ("Status", lambda r: r.status),
            ("Meaning", lambda r: r.note)]))  # fmt: skip
    missing = [*why.missing_files, *why.missing_user_data]
    if missing:
        out.print(Text(f"\nMissing inputs ({len(missing)}):"))
        out.print(render.records_table(missing, [
            ("Kind", lambda m: m.kind), ("ID", lambda m: m.id), ("Name", lambda m: m.name),
            ("Path", lambda m: m.path or ""), ("Why", lambda m: m.reason)]))  # fmt: skip
    if why.canceled_by:
        out.print(Text(f"\nCanceled because these upstream jobs did not succeed ({len(why.canceled_by)}):"))
        out.print(render.records_table(why.canceled_by, [
            ("ID", lambda r: r.id), ("Name", lambda r: r.name), ("Status", lambda r: r.status)]))  # fmt: skip


def show_plan(plan: ExecutionPlan, fmt: str) -> None:
    """One line about the workflow (or spec), then one row per stage."""
    if fmt == "json":
        render.print_json(plan)
        return
    source = f"workflow {plan.workflow_id} ({plan.name})" if plan.workflow_id is not None else (
        f"{plan.spec_file} ({plan.name})")  # fmt: skip
    out = render.console()
    listed = f" (the first {len(plan.stages):,} listed)" if len(plan.stages) < plan.num_stages else ""
    out.print(Text(f"Execution plan of {source}: {count(plan.num_jobs, 'job')} in {count(plan.num_stages, 'stage')}"
                   f"{listed}"))
    columns = [("Stage", lambda s: s.stage), ("Jobs", lambda s: s.num_jobs), ("Names", _names),
               ("Resources", lambda s: "; ".join(_resources(r) for r in s.resource_requirements))]  # fmt: skip
    if plan.workflow_id is not None:
        columns.insert(3, ("Status", lambda s: ", ".join(f"{n} {status}" for status, n in s.job_counts.items())))
    out.print(render.records_table(plan.stages, columns))


def _names(stage: PlanStage) -> str:
    more = stage.num_jobs - len(stage.job_names)
    return ", ".join(stage.job_names) + (f" and {more} more" if more > 0 and stage.job_names else "")


def _resources(r: StageResources) -> str:
    gpus = f", {count(r.num_gpus, 'GPU')}" if r.num_gpus else ""
    nodes = f", {count(r.num_nodes, 'node')}" if r.num_nodes > 1 else ""
    return f"{r.name} x{r.num_jobs} ({count(r.num_cpus, 'CPU')}{gpus}{nodes}, {r.memory}, {r.runtime})"


def _shown(listed: int, total: object) -> str:
    return f"{listed} of {total}" if str(listed) != str(total) else str(listed)
