"""Workflow specifications: parse a spec, check it, and turn it into a WorkflowPlan.

    doc = load_spec_text(text, format_from_filename(path), source=path)
    plan = build_plan(doc)        # validates, expands parameters, resolves names, checks cycles

Everything here is pure (no I/O besides reading the packaged schema) and raises
`torc_client.core.errors.SpecError(path, message)` for every problem.
"""

from torc_client.spec.expand import expand_entries
from torc_client.spec.loader import (
    FORMATS,
    dump_spec_text,
    format_from_filename,
    load_spec_text,
)
from torc_client.spec.params import (
    format_value,
    parameter_combinations,
    parse_parameter_values,
    parse_parameters,
    substitute_parameters,
)
from torc_client.spec.plan import (
    DEFAULT_RESOURCES,
    DEFAULT_SETTINGS,
    build_plan,
    substitute_user_data_ids,
)
from torc_client.spec.records import (
    PlanFailureHandler,
    PlanFile,
    PlanJob,
    PlanResources,
    PlanUserData,
    WorkflowPlan,
)
from torc_client.spec.validate import spec_schema, validate_spec

__all__ = [
    "DEFAULT_RESOURCES",
    "DEFAULT_SETTINGS",
    "PlanFailureHandler",
    "PlanFile",
    "PlanJob",
    "PlanResources",
    "PlanUserData",
    "WorkflowPlan",
    "FORMATS",
    "build_plan",
    "dump_spec_text",
    "expand_entries",
    "format_from_filename",
    "format_value",
    "load_spec_text",
    "parameter_combinations",
    "parse_parameter_values",
    "parse_parameters",
    "spec_schema",
    "substitute_parameters",
    "substitute_user_data_ids",
    "validate_spec",
]
