"""Strict xAPI model checks, split as the specification is: common types, agents, objects,
statements, plus SkillTrace's own vocabulary. Each `check_*` raises `BadRequestError` naming
the offending field."""

from lrs.models.statements import check_statement, check_statement_batch

__all__ = ["check_statement", "check_statement_batch"]
