"""Every workflow spec in NREL's Torc repository, as its users have them: each creates and initialises here."""

from __future__ import annotations

from pathlib import Path

import pytest

from torc_client import Client
from torc_client.core.errors import SpecError, ValidationError
from torc_client.spec import (
    build_plan,
    dump_spec_text,
    format_from_filename,
    load_spec_text,
)

UPSTREAM = Path(__file__).parents[1] / "data" / "upstream"
SPECS = sorted(p for p in UPSTREAM.rglob("*") if p.suffix in (".yaml", ".json", ".json5", ".kdl"))
#: Specs Torc itself refuses (its Slurm schedulers have no `num_nodes`): refused here too, with the fix.
REFUSED_BY_TORC = {
    "tests/workflows/recovery_hook_test/workflow.yaml",
    "tests/workflows/timeout_auto_recovery_test/workflow.yaml",
}
ACCEPTED = [p for p in SPECS if str(p.relative_to(UPSTREAM)) not in REFUSED_BY_TORC]


def name(path: Path) -> str:
    return str(path.relative_to(UPSTREAM))


def test_every_format_and_folder_of_the_upstream_repository_is_here() -> None:
    assert len(SPECS) == 62
    assert {p.suffix for p in SPECS} == {".yaml", ".json", ".json5", ".kdl"}
    assert sum(p.suffix == ".kdl" for p in SPECS) == 17


@pytest.mark.parametrize("spec", ACCEPTED, ids=[name(p) for p in ACCEPTED])
def test_upstream_spec_creates_and_initialises(client: Client, tmp_path: Path, spec: Path) -> None:
    workflow = client.create_workflow_from_file(spec, working_dir=str(tmp_path))
    try:
        client.initialize_workflow(workflow.id)
    except ValidationError as error:  # inputs nobody produces: give them placeholders, as a user would
        missing = error.problem_doc.get("missing_file_ids") or []
        assert missing, error.message
        created = [path for file_id in missing for path in _placeholder(tmp_path / client.get_file(file_id).path)]
        try:
            client.initialize_workflow(workflow.id)
        finally:  # some specs read absolute paths (/scripts/...): leave nothing behind outside tmp_path
            for path in sorted(created, key=lambda path: (path.is_dir(), -len(path.parts))):
                path.unlink() if path.is_file() else path.rmdir()
    status = client.workflow_status(workflow.id)
    assert status.is_initialized and status.num_jobs == len(build_plan(_doc(spec)).jobs)


@pytest.mark.parametrize("spec", sorted(REFUSED_BY_TORC))
def test_specs_torc_refuses_are_refused_with_the_key_to_use(spec: str) -> None:
    with pytest.raises(SpecError) as caught:
        build_plan(_doc(UPSTREAM / spec))
    assert caught.value.path == "slurm_schedulers[0]"
    assert "unknown key 'num_nodes'" in caught.value.message and "did you mean 'nodes'?" in caught.value.message


@pytest.mark.parametrize("spec", ACCEPTED, ids=[name(p) for p in ACCEPTED])
def test_upstream_spec_means_the_same_in_every_format(spec: Path) -> None:
    doc = _doc(spec)
    plan = build_plan(doc)
    for fmt in ("yaml", "json", "json5", "kdl"):
        assert build_plan(load_spec_text(dump_spec_text(doc, fmt), fmt)) == plan, fmt


def test_a_kdl_fan_in_job_waits_for_every_expansion() -> None:
    plan = build_plan(_doc(UPSTREAM / "examples/kdl/hyperparameter_sweep.kdl"))
    aggregate = [job for job in plan.jobs if job.name == "aggregate_results"]
    assert len(aggregate) == 1 and len(aggregate[0].input_files) == 18
    assert len(plan.upstream["aggregate_results"]) == 18


def _placeholder(path: Path) -> list[Path]:
    """Write a placeholder file; return it and the directories made for it."""
    made = [parent for parent in path.parents if not parent.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("placeholder\n")
    return [path, *made]


def _doc(spec: Path) -> dict:
    return load_spec_text(spec.read_text(), format_from_filename(spec.name), source=name(spec))
