"""Torc's own example specs that use Slurm schedulers and actions: each creates and initialises here."""

from __future__ import annotations

from pathlib import Path

import pytest

from torc_client import Client
from torc_client.errors import ValidationError

UPSTREAM = Path(__file__).parents[1] / "data" / "upstream"
SPECS = sorted(p for p in UPSTREAM.iterdir() if p.suffix in (".yaml", ".json", ".json5"))


def test_the_copied_specs_are_the_ones_that_use_the_hpc_keys() -> None:
    assert len(SPECS) == 13
    assert all(any(key in p.read_text() for key in ("slurm_schedulers", "actions")) for p in SPECS)


@pytest.mark.parametrize("spec", SPECS, ids=[p.name for p in SPECS])
def test_upstream_spec_creates_and_initialises(client: Client, tmp_path: Path, spec: Path) -> None:
    workflow = client.create_workflow_from_file(spec, working_dir=str(tmp_path))
    try:
        client.initialize_workflow(workflow.id)
    except ValidationError as error:  # inputs nobody produces: give them placeholders, as a user would
        missing = error.problem_doc.get("missing_file_ids") or []
        assert missing, error.message
        for file_id in missing:
            path = tmp_path / client.get_file(file_id).path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("placeholder\n")
        client.initialize_workflow(workflow.id)
    status = client.workflow_status(workflow.id)
    assert status.is_initialized and status.num_jobs > 0
    assert client.list_slurm_schedulers(workflow.id) or client.list_actions(workflow.id)
