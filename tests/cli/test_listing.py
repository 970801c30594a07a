"""List flags as Torc has them: `--sort-by FIELD`, `--reverse-sort`, and `-f csv`."""

from __future__ import annotations

import csv
import io
import json
import uuid

SPEC = {"jobs": [{"name": "b_job", "command": "true"}, {"name": "c_job", "command": "exit 1"},
                 {"name": "a_job", "command": "true"}]}  # fmt: skip


def _names(cli, *args: str) -> list[str]:
    return [j["name"] for j in json.loads(cli("-f", "json", *args).stdout)]


def test_sort_by_and_reverse_sort_order_a_listing(cli, make_workflow) -> None:
    wid = str(make_workflow({"name": f"sort_{uuid.uuid4().hex[:6]}", **SPEC}).id)
    assert _names(cli, "jobs", "list", wid) == ["b_job", "c_job", "a_job"]
    assert _names(cli, "jobs", "list", wid, "--sort-by", "name") == ["a_job", "b_job", "c_job"]
    assert _names(cli, "jobs", "list", wid, "--sort-by", "name", "--reverse-sort") == ["c_job", "b_job", "a_job"]
    assert _names(cli, "jobs", "list", wid, "--reverse-sort") == ["a_job", "c_job", "b_job"]
    table = cli("jobs", "list", wid, "--sort-by", "name").stdout
    assert table.index("a_job") < table.index("b_job") < table.index("c_job")
    wrong = cli("jobs", "list", wid, "--sort-by", "colour", check=False)
    assert wrong.returncode == 2 and "no field 'colour'" in wrong.stderr and "name" in wrong.stderr


def test_csv_writes_a_header_and_a_row_per_record(client, cli, make_workflow) -> None:
    wf = make_workflow({"name": f"csv_{uuid.uuid4().hex[:6]}", **SPEC}, initialize=True)
    cli("run", str(wf.id), check=False)
    rows = list(csv.DictReader(io.StringIO(cli("-f", "csv", "results", "list", str(wf.id), "--sort-by",
                                               "return_code").stdout)))  # fmt: skip
    assert [row["return_code"] for row in rows] == ["0", "0", "1"]
    assert {row["job_id"] for row in rows} == {str(j.id) for j in client.list_jobs(wf.id)}
    one = list(csv.DictReader(io.StringIO(cli("jobs", "get", str(rows[0]["job_id"]), "-f", "csv").stdout)))
    assert len(one) == 1 and one[0]["status"] == "completed" and one[0]["depends_on_job_ids"] == "[]"
