"""Strict xAPI model checks, split as the specification is: common types, agents, objects,
statements. Each `check_*` raises `BadRequestError` naming the offending field. (SkillTrace's
own vocabulary is `app.xapi_profile`, the one list of the IRIs it writes.)"""

from lrs.models.statements import check_statement, check_statement_batch

__all__ = ["check_statement", "check_statement_batch"]
