"""Fingerprints of what a job's last result depends on, compared at reinitialisation."""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: The fields of a job document that define what it does.
DEFINITION_FIELDS = ("command", "invocation_script", "upstream", "input_files", "output_files", "input_user_data",
                     "output_user_data")  # fmt: skip


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:32]


def definition_hash(doc: dict[str, Any]) -> str:
    """A job's definition, hashed: what must not change for its last result to stay valid."""
    return _digest({field: doc.get(field) for field in DEFINITION_FIELDS})


def data_hash(data: Any) -> str:
    """A user_data record's contents, hashed."""
    return _digest(data)
