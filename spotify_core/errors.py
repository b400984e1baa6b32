"""Errors a user can cause: the CLI prints their message on one line and exits 1, no traceback."""


class PipelineError(Exception):
    """Expected failure (bad input, missing credentials, unreachable service)."""


class UsageError(PipelineError):
    """Wrong command-line usage: exit code 2."""
