"""Detectors of the cluster and cloud CLIs: meanings a spec cannot list.

- `kube_secrets`: `kubectl get secret x -o yaml` and `config view --raw` print
  credentials (the resource type and the output option together say it);
- `cloud_operations`: the operation of a large cloud CLI (`aws ec2
  terminate-instances`, `az group delete`, `gcloud projects delete`), whose
  services are too many to list, destroys when its verb does;
- `object_store_wildcards`: a remove whose target is a whole bucket by wildcard
  (`gsutil rm gs://b/**`, `s5cmd rm 's3://b/*'`) is a recursive remove.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tether.core.safety.options import parse_args
from tether.core.safety.registry import REGISTRY

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["DETECTORS"]

Detector = Callable[["Findings"], None]


def _operands(f: Findings) -> list[str]:
    spec = REGISTRY[f.command.program]
    return [text for _, text in parse_args(f.command.args, spec.parsing).operands]


def kube_secrets(f: Findings) -> None:
    """Secret values printed by a query (`get secret -o yaml`, `config view --raw`)."""
    args = f.command.args
    operands = _operands(f)
    verb = operands[0] if operands else ""
    raw = any(a == "--raw" or (a.startswith("--raw=") and a != "--raw=false") for a in args)
    if verb == "config" and "view" in operands and raw:
        f.fact("secrets_read", f"{f.command.text} (prints cluster credentials)")
    shown = any(a.startswith(("-o", "--output", "--template")) for a in args)
    secret = any(re.match(r"^(secrets?|sealedsecrets?)([/.,]|$)", o.lower()) for o in operands[1:])
    if verb in {"get", "describe", "edit"} and secret and (shown or verb == "edit"):
        f.fact("secrets_read", f"{f.command.text} (prints secret values)")


_DESTROYS = re.compile(
    r"^(delete|destroy|terminate|rb|purge|deregister|drop)([-_].*)?$",
    re.IGNORECASE,
)


def cloud_operations(f: Findings) -> None:
    """`aws SERVICE delete-x`, `gcloud GROUP… delete`, `az GROUP… delete`: destruction."""
    args = f.command.args
    if "--dry-run" in args or "--help" in args:
        return
    operands = _operands(f)
    # aws: SERVICE OPERATION; gcloud and az: groups, then the command.
    words = operands[1:2] if f.command.program == "aws" else operands[:5]
    if any(_DESTROYS.match(word) for word in words):
        f.fact("cloud_destruction", f"{f.command.text} (deletes cloud resources)")


def object_store_wildcards(f: Findings) -> None:
    """A remove whose target is every object of a bucket by wildcard."""
    operands = _operands(f)
    if "rm" not in operands[:2]:
        return
    targets = operands[operands.index("rm") + 1 :]
    if f.command.program == "s5cmd":
        # s5cmd's `*` matches across `/`: any wildcard reaches the whole prefix.
        everything = any("*" in target for target in targets)
    else:
        everything = any(
            "**" in t or (t.rstrip("/").count("/") <= 2 and t.endswith("*")) for t in targets
        )
    if everything:
        f.fact("cloud_destruction", f"{f.command.text} (removes a bucket's contents)")


DETECTORS: dict[str, Detector] = {
    "kube_secrets": kube_secrets,
    "cloud_operations": cloud_operations,
    "object_store_wildcards": object_store_wildcards,
}
"""Detector name -> detector, for the specs in `registry/cloud.py`."""
