"""Code detectors: the few things about a call that data cannot say, each with one job.

A spec names its detectors (`detect="delete_targets"`); the vetting walk runs
the detectors of every node on the way to the subcommand, after the spec has
named the call's options, operands and paths. A detector adds facts and
paths to the `Findings`; it never vets a call (only the spec does). The list
below is the whole set (docs/safety.md, "What stays code").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tether.core.safety.registry.call import Call
from tether.core.safety.registry.detectors import (
    archives,
    containers,
    environment,
    languages,
    processes,
    stores,
    targets,
)

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["DETECTORS", "Detector"]

Detector = Callable[["Findings", Call], None]

DETECTORS: dict[str, Detector] = {
    # what a target is
    "delete_targets": targets.delete_targets,
    "permission_targets": targets.permission_targets,
    "setuid_mode": targets.setuid_mode,
    "device_writes": targets.device_writes,
    "find_expression": targets.find_expression,
    "fd_exec": targets.fd_exec,
    "cd_home": targets.cd_home,
    "man_files": targets.man_files,
    "tar_modes": archives.tar_modes,
    # script languages
    "sed_program": languages.sed_program,
    "awk_program": languages.awk_program,
    "jq_filter": languages.jq_filter,
    "yq_expression": languages.yq_expression,
    "editor_commands": languages.editor_commands,
    "pager_commands": languages.pager_commands,
    # the machine
    "kill_targets": processes.kill_targets,
    "pkill_patterns": processes.pkill_patterns,
    "clock_set": processes.clock_set,
    "kernel_settings": processes.kernel_settings,
    "network_changes": processes.network_changes,
    "host_name_set": processes.host_name_set,
    # the environment
    "printed_variables": environment.printed_variables,
    "declared_variables": environment.declared_variables,
    "listed_variables": environment.listed_variables,
    "process_environment": environment.process_environment,
    "shell_options": environment.shell_options,
    "set_options": environment.set_options,
    # containers, clouds, stores
    "container_settings": containers.container_settings,
    "cluster_changes": containers.cluster_changes,
    "secret_reads": stores.secret_reads,
    "cloud_destruction": stores.cloud_destruction,
    "bucket_removal": stores.bucket_removal,
    "infrastructure_changes": stores.infrastructure_changes,
    "sql_text": stores.sql_text,
}
"""Detector name (as a spec writes it) -> the function."""
