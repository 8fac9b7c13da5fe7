"""Detectors for secret stores, clouds and databases: secrets read, destruction by meaning."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tether.core.safety.registry.call import Call
from tether.core.safety.registry.lazy import LazyPattern

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = [
    "SECRET_WORDS",
    "bucket_removal",
    "cloud_destruction",
    "infrastructure_changes",
    "secret_reads",
    "sql_text",
]

SECRET_WORDS: dict[str, frozenset[str]] = {
    "security": frozenset(
        [
            "find-generic-password",
            "find-internet-password",
            "dump-keychain",
            "export",
            "find-key",
            "export-keychain",
        ]
    ),
    "secret-tool": frozenset({"lookup", "search"}),
    "op": frozenset({"read", "item", "get", "inject", "signin"}),
    "bw": frozenset({"get", "unlock", "export"}),
    "vault": frozenset({"read", "kv", "token", "login"}),
    "lpass": frozenset({"show", "export"}),
    "gopass": frozenset({"show", "cat"}),
    "keyring": frozenset({"get"}),
    "doppler": frozenset({"secrets"}),
    "infisical": frozenset({"secrets", "export"}),
    "heroku": frozenset({"auth:token"}),
    "aws": frozenset(
        [
            "export-credentials",
            "get-session-token",
            "get-secret-value",
            "get-parameter",
            "get-parameters",
            "get-login-password",
            "get-authorization-token",
            "assume-role",
        ]
    ),
    "gcloud": frozenset({"print-access-token", "print-identity-token", "access"}),
    "az": frozenset({"get-access-token"}),
    "gh": frozenset(),
    "glab": frozenset(),
}
"""Program -> words that, anywhere in a call, read a secret (`vault kv get`, `op item get`).

The stores' command trees are deep and change often, so the words that read a
secret are matched anywhere; this can only add a fact, never vet a call.
"""


def secret_reads(f: Findings, call: Call) -> None:
    """Secret stores and cloud CLIs: the calls that print a secret or an access token."""
    c = f.command
    words = set(c.args)
    if c.program in {"gh", "glab"} and "auth" in words and words & {"token", "--show-token", "-t"}:
        f.fact("secrets_read", f"{c.text} (prints an access token)")
    elif c.program == "aws" and "configure" in words and words & {"get", "export-credentials"}:
        f.fact("secrets_read", f"{c.text} (reads AWS credentials)")
    elif words & SECRET_WORDS.get(c.program, frozenset()):
        f.fact("secrets_read", f"{c.text} (reads a secret store)")
    if c.program in {"gh", "glab"}:
        operands = [a for a in c.args if not a.startswith("-")]
        if operands[:2] == ["repo", "delete"]:
            f.fact("cloud_destruction", f"{c.text} (deletes a repository)")


_DESTROY = LazyPattern(r"^(delete|destroy|terminate|rb|purge|deregister|drop)([-_].*)?$", re.I)
_RECURSIVE = frozenset({"-r", "-R", "--recursive"})


def cloud_destruction(f: Findings, call: Call) -> None:
    """aws, gcloud, az: deletes of cloud resources and recursive bucket removes."""
    args = f.command.args
    if "--dry-run" in args or "--help" in args:
        return
    if any(_DESTROY.match(a) for a in args):
        f.fact("cloud_destruction", f"{f.command.text} (deletes cloud resources)")
    elif "rm" in args and (
        (f.command.program == "aws" and "s3" in args and "--recursive" in args)
        or (f.command.program == "gcloud" and "storage" in args and _RECURSIVE & set(args))
    ):
        f.fact("cloud_destruction", f"{f.command.text} (deletes a bucket's contents)")


def bucket_removal(f: Findings, call: Call) -> None:
    """`gsutil rb`, `gsutil rm -r gs://b`, `gsutil rm gs://b/**`: a bucket or all it holds."""
    args = f.command.args
    operands = [a for a in args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    recursive = any(a == "--recursive" or re.match(r"^-[a-zA-Z]*[rR]", a) for a in args)
    everything = any(
        "**" in o or (o.rstrip("/").count("/") <= 2 and o.endswith("*")) for o in operands
    )
    if sub == "rb" or (sub == "rm" and (recursive or everything)):
        f.fact("cloud_destruction", f"{f.command.text} (deletes a bucket or its contents)")


def infrastructure_changes(f: Findings, call: Call) -> None:
    """`terraform apply -destroy`, `pulumi up`: plans applied; `destroy` destroys."""
    args = f.command.args
    operands = [a for a in args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    if sub == "destroy" or (sub in {"apply", "up"} and "-destroy" in args):
        f.fact("cloud_destruction", f"{f.command.text} (destroys infrastructure)")
    elif sub in {"apply", "up", "import", "taint", "untaint", "state", "refresh"}:
        f.fact("container", f"{f.command.text} (changes infrastructure)")
    if sub not in {"fmt", "validate", "version", ""}:
        f.fact("network")


_SQL_DESTROY = LazyPattern(
    r"\b(drop\s+(table|database|schema|view|index|user|role|collection|keyspace|"
    r"materialized)|truncate\b|delete\s+from\s+[\w.\"`\[\]]+\s*(;|$)|flushall|flushdb|"
    r"dropdatabase\s*\(|\.drop\s*\(\s*\)|alter\s+table\s+\S+\s+drop\b)",
    re.IGNORECASE,
)
_SQL_COMMENT = LazyPattern(r"/\*.*?(\*/|$)|--[^\n]*|#[^\n]*", re.DOTALL)
_ALWAYS_TRUE = LazyPattern(
    r"\bwhere\s+(?:not\s+false|true|1|1\s*=\s*1|(?P<q>'[^']*'|\d+)\s*=\s*(?P=q)|"
    r"(?P<c>[\w.\"`]+)\s*=\s*(?P=c)|(?P<d>[\w.\"`]+)\s+is\s+not\s+null\s+or\s+(?P=d)\s+is\s+null|"
    r"1\s*<>\s*0|0\s*=\s*0)\s*$",
    re.IGNORECASE,
)
_UNFILTERED_UPDATE = LazyPattern(
    r"^\s*update\s+\S+\s+set\b(?!.*\bwhere\b)", re.IGNORECASE | re.DOTALL
)
_DELETE = LazyPattern(r"^\s*delete\s+from\b", re.IGNORECASE)
_MEANING = LazyPattern(
    r"\bdrop\s+owned\b|\breassign\s+owned\b|"
    r"\.(deleteMany|remove|delete_many|drop|dropDatabase|deleteAll)\s*\(\s*(\{\s*\})?\s*\)|"
    r"\bflushall\b|\bflushdb\b",
    re.IGNORECASE,
)


def _destroys_by_meaning(text: str) -> bool:
    """An always-true WHERE, an UPDATE without one, an empty-filter delete, an ownership drop."""
    if _MEANING.search(text):
        return True
    for statement in text.split(";"):
        if _DELETE.match(statement) and _ALWAYS_TRUE.search(statement.strip()):
            return True
        if _UNFILTERED_UPDATE.match(statement):
            return True
    return False


def sql_text(f: Findings, call: Call) -> None:
    """Database clients: SQL (in any argument or on stdin) that drops, truncates or deletes all."""
    c = f.command
    # Comments are blanks to SQL: `DROP/**/TABLE x` is `DROP TABLE x`.
    # Option values on their own too: `--command=drop table x` is not a `--` comment.
    values = [o.value for o in call.options if o.value]
    texts = [_SQL_COMMENT.sub(" ", t) for t in (*c.args, *values, c.stdin_text or "")]
    if any(_SQL_DESTROY.search(text) or _destroys_by_meaning(text) for text in texts):
        f.fact("sql_destruction", f"{c.program}: drops, truncates or deletes all rows")
    for index, arg in enumerate(c.args):
        if arg in {"-f", "--file"}:
            f.arg(index + 1, "read")
