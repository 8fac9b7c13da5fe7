"""Detectors for containers and clusters: privileged settings in every spelling, mounts, deletes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tether.core.safety.registry.call import Call
from tether.core.safety.registry.lazy import LazyPattern

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["cluster_changes", "container_settings"]

_DOCKER_READ = frozenset(
    [
        "ps",
        "images",
        "logs",
        "inspect",
        "version",
        "info",
        "stats",
        "top",
        "port",
        "history",
        "events",
        "diff",
    ]
)
_DOCKER_LISTING = frozenset(["ls", "ps", "inspect", "logs", "df", "config", "top"])
_HOST_NAMESPACES = frozenset(
    ["--pid", "--ipc", "--uts", "--userns", "--cgroupns", "--network", "--net"]
)
_DANGEROUS_CAPS = frozenset(
    [
        "all",
        "sys_admin",
        "sys_ptrace",
        "sys_module",
        "dac_read_search",
        "dac_override",
        "sys_rawio",
        "net_admin",
        "sys_boot",
        "bpf",
        "perfmon",
        "sys_chroot",
        "setfcap",
        "mknod",
        "audit_control",
        "mac_admin",
        "mac_override",
    ]
)
_DOCKER_VALUES = _HOST_NAMESPACES | frozenset(
    [
        "--cap-add",
        "--security-opt",
        "--device",
        "--volume",
        "-v",
        "--mount",
        "--env-file",
        "--secret",
        "--label-file",
        "--name",
        "-e",
        "--env",
        "-p",
        "--publish",
        "-w",
        "--workdir",
        "-u",
        "--user",
        "--entrypoint",
    ]
)
_UNCONFINED = LazyPattern(
    r"^((seccomp|apparmor|systempaths)[:=]unconfined|label[:=]disabled?|"
    r"no-new-privileges[:=]false)$",
    re.IGNORECASE,
)


def _settings(args: Sequence[str]) -> list[tuple[str, str | None]]:
    """`--pid host` and `--pid=host` alike: (option, value) pairs, names lower-cased."""
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(args):
        name, equals, value = args[index].partition("=")
        name = name.lower()
        if equals:
            pairs.append((name, value))
        elif name in _DOCKER_VALUES and index + 1 < len(args):
            pairs.append((name, args[index + 1]))
            index += 1
        else:
            pairs.append((name, None))
        index += 1
    return pairs


def _privileged(name: str, value: str | None) -> bool:
    """A container option that gives the container the host (every spelling)."""
    lowered = (value or "").strip().lower()
    if name == "--privileged":
        return value is None or lowered in {"true", "1", "yes", "on"}
    if name in _HOST_NAMESPACES:
        return lowered == "host"
    if name == "--cap-add":
        return any(c.strip().removeprefix("cap_") in _DANGEROUS_CAPS for c in lowered.split(","))
    if name == "--security-opt":
        return bool(_UNCONFINED.match(lowered))
    return name == "--device"


def container_settings(f: Findings, call: Call) -> None:
    """docker, podman: container work, prunes of everything, privileged containers, mounts."""
    args = f.command.args
    operands = [a for a in args if not a.startswith("-")]
    sub = call.words[0] if call.words else (operands[0] if operands else "")
    second = call.words[1] if len(call.words) > 1 else (operands[1] if len(operands) > 1 else "")
    if args and all(a in {"--version", "-v", "--help", "-h"} for a in args):
        return
    if sub in _DOCKER_READ or second in _DOCKER_LISTING:
        return
    f.fact("container", f"{f.command.text} ({f.command.program} {sub})")
    if second == "prune" and sub in {"system", "volume"}:
        flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
        if "a" in flags or {"--all", "--volumes"} & set(args):
            f.fact("destructive_delete", f"{f.command.text} (deletes every image or volume)")
    if any(_privileged(name, value) for name, value in _settings(args)):
        f.fact("privilege_escalation", f"{f.command.text} (a privileged container)")
    for index, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name in {"--env-file", "--secret"} or (name == "--label-file" and equals):
            if equals:
                f.text_path(value.removeprefix("src=").split(",")[0], "read")
            else:
                f.arg(index + 1, "read")
        volume = _volume(args, index)
        if volume is not None:
            f.text_path(volume, "write", dynamic=index + 1 in f.command.dynamic_args)
            if volume.rstrip("/") in {"", "/var/run/docker.sock", "/run/docker.sock"}:
                f.fact("privilege_escalation", f"{f.command.text} (mounts the host)")


def _volume(args: Sequence[str], index: int) -> str | None:
    arg = args[index]
    spec: str | None = None
    if arg in {"-v", "--volume", "--mount"} and index + 1 < len(args):
        spec = args[index + 1]
    elif arg.startswith(("--volume=", "--mount=")):
        spec = arg.split("=", 1)[1]
    elif arg.startswith("-v") and len(arg) > 2:
        spec = arg[2:]
    if spec is None:
        return None
    match = re.search(r"(?:source|src)=([^,]+)", spec)
    if match:
        return match.group(1)
    source = spec.split(":", 1)[0]
    return source if source.startswith(("/", ".", "~")) else None


_PRIVILEGED_POD = LazyPattern(
    r"\"(privileged|hostPID|hostNetwork|hostIPC|allowPrivilegeEscalation)\"\s*:\s*true|"
    r"\"hostPath\"|--privileged(=true)?\b",
    re.IGNORECASE,
)
_WHOLE = frozenset({"namespace", "ns", "node", "nodes"})


def cluster_changes(f: Findings, call: Call) -> None:
    """kubectl, oc: secrets printed, privileged pods, deletes of everything."""
    args = f.command.args
    words = call.words
    operands = [text for _, text in call.operands]
    sub = words[0] if words else ""
    raw = any(a == "--raw" or (a.startswith("--raw=") and a != "--raw=false") for a in args)
    if sub == "config" and "view" in (*words, *operands) and raw:
        f.fact("secrets_read", f"{f.command.text} (prints cluster credentials)")
    elif (
        sub in {"get", "describe"}
        and any(o.startswith("secret") for o in operands)
        and any(a.startswith(("-o", "--output")) for a in args)
    ):
        f.fact("secrets_read", f"{f.command.text} (prints secret values)")
    if _PRIVILEGED_POD.search(" ".join(args)):
        f.fact("privilege_escalation", f"{f.command.text} (a privileged pod)")
    if sub == "delete" and ("--all" in args or (operands[:1] and operands[0] in _WHOLE)):
        f.fact("cloud_destruction", f"{f.command.text} (deletes cluster resources)")
