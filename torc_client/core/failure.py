"""Failure handlers: which rule applies to an exit code, and whether another attempt is allowed.

A rule names exit codes, or matches every code (`match_all_exit_codes`); rules with an
exact code win over match-all rules, then rules keep their order (Torc's order).
"""

from __future__ import annotations

from typing import Any


def match_rule(rules: list[dict[str, Any]], return_code: int) -> dict[str, Any] | None:
    """The rule that handles `return_code`, or None."""
    for rule in rules:
        if return_code in rule.get("exit_codes", []):
            return rule
    for rule in rules:
        if rule.get("match_all_exit_codes"):
            return rule
    return None


def may_retry(rules: list[dict[str, Any]], return_code: int, attempt_id: int) -> bool:
    """Whether a failed attempt gets another one: a rule matches and attempts remain."""
    rule = match_rule(rules, return_code)
    return rule is not None and attempt_id < int(rule.get("max_retries", 3))
