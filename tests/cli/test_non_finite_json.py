"""NaN and the infinities are refused everywhere user_data comes in, with where they are (JSON cannot hold them)."""

from __future__ import annotations

import math

import pytest

from torc_client.core.errors import SpecError
from torc_client.core.jsonvalues import NotJson
from torc_client.spec import build_plan


def test_cli_refuses_nan_in_data_and_stores_nothing(cli, client, tmp_path) -> None:
    spec = {"name": "nan", "user_data": [{"name": "params", "data": {"lr": 0.1}}],
            "jobs": [{"name": "j", "command": "true"}]}  # fmt: skip
    wf = client.create_workflow_from_spec(spec, working_dir=str(tmp_path))
    (record,) = client.list_user_data(wf.id)
    result = cli("user-data", "update", str(record.id), "--data", '{"lr": NaN}', check=False)
    assert result.returncode != 0 and "NaN is not JSON" in result.stderr
    assert client.get_user_data(record.id).data == {"lr": 0.1}


def test_python_client_refuses_non_finite_numbers_with_their_place(client, tmp_path) -> None:
    wf = client.create_workflow_from_spec({"name": "nan", "jobs": [{"name": "j", "command": "true"}]},
                                          working_dir=str(tmp_path))  # fmt: skip
    with pytest.raises(NotJson, match=r"lr\[1\] is NaN or infinite"):
        client.create_user_data(wf.id, "p", {"lr": [0.1, float("nan")]})
    with pytest.raises(NotJson, match="user_data 'q'"):
        client.create_user_data(wf.id, "q", math.inf)
    assert client.list_user_data(wf.id) == []


def test_a_spec_with_nan_in_user_data_says_where() -> None:
    spec = {"name": "nan", "user_data": [{"name": "p", "data": {"x": float("nan")}}],
            "jobs": [{"name": "j", "command": "true"}]}  # fmt: skip
    with pytest.raises(SpecError) as error:
        build_plan(spec)
    assert "user_data[0].data" in str(error.value) and "x is NaN" in str(error.value)
