"""Programs that act on the machine: privileges, services, disks, processes, secrets, clouds."""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

from tether.core.safety.programs.base import (
    Findings,
    Handler,
    HandlerTable,
    is_secret_name,
    names,
)

__all__ = ["HANDLERS", "NO_PATH_PROGRAMS"]

HANDLERS = HandlerTable()


def _flagging(kind: str, detail: str = "") -> Handler:
    """A handler that records `kind` for every use of the program."""

    def handler(f: Findings) -> None:
        f.handled_paths = True
        f.fact(kind, f"{f.command.text}{detail}")

    return handler


_PRIVILEGE = "sudo doas su pkexec run0 runuser sg newgrp chroot nsenter unshare setcap sudoedit"
_ADMIN = (
    "mount umount swapon swapoff modprobe insmod rmmod depmod iptables ip6tables "
    "iptables-restore nft ufw firewall-cmd pfctl setenforce useradd userdel usermod groupadd "
    "groupdel groupmod adduser deluser addgroup delgroup chpasswd passwd chsh chfn vipw vigr "
    "visudo hostnamectl timedatectl update-alternatives ldconfig dscl nvram csrutil spctl tccutil "
    "sysadminctl update-grub grub-install efibootmgr auditctl loginctl"
)
_DISK = (
    "fdisk sfdisk gdisk sgdisk cfdisk parted wipefs blkdiscard hdparm mkswap mke2fs mkdosfs "
    "mkntfs flashrom sg_format badblocks ddrescue lvremove vgremove pvremove"
)
for _programs, _handler in (
    (_PRIVILEGE, _flagging("privilege_escalation", " (runs with other privileges)")),
    (_ADMIN, _flagging("system_admin", " (changes the system)")),
    (_DISK, _flagging("disk_destruction", " (changes disks or partitions)")),
    ("shutdown reboot halt poweroff killall5", _flagging("system_shutdown")),
    ("skill xkill", _flagging("process_control")),
):
    for _program in _programs.split():
        HANDLERS[_program] = _handler
del _programs, _handler, _program


def is_filesystem_maker(program: str) -> bool:
    return program.startswith(("mkfs", "newfs"))


def _subcommand_flag(kind: str, words: str) -> Handler:
    """Record `kind` when any argument is one of `words` (case-insensitive)."""
    wanted = names(words)

    def handler(f: Findings) -> None:
        f.handled_paths = True
        if any(a.lower() in wanted for a in f.command.args):
            f.fact(kind, f"{f.command.text} (erases or destroys storage)")

    return handler


HANDLERS["cryptsetup"] = _subcommand_flag("disk_destruction", "luksformat erase luksremovekey")
HANDLERS["zpool"] = _subcommand_flag("disk_destruction", "destroy labelclear")
HANDLERS["zfs"] = _subcommand_flag("disk_destruction", "destroy")
HANDLERS["nvme"] = _subcommand_flag("disk_destruction", "format sanitize")
HANDLERS["diskutil"] = _subcommand_flag(
    "disk_destruction",
    "erasedisk erasevolume partitiondisk zerodisk randomdisk secureerase reformat deletecontainer",
)


@HANDLERS.on("sysctl")
def _sysctl(f: Findings) -> None:
    f.handled_paths = True
    if any(a in {"-w", "--write", "-p", "--load", "--system"} or "=" in a for a in f.command.args):
        f.fact("system_admin", f"{f.command.text} (changes kernel settings)")


@HANDLERS.on("ip")
def _ip(f: Findings) -> None:
    f.handled_paths = True
    changes = names("add del delete set flush change replace")
    if any(a in changes for a in f.command.args):
        f.fact("system_admin", f"{f.command.text} (changes the network configuration)")


# -- services and processes ---------------------------------------------------------------

_SYSTEMCTL_SHUTDOWN = names(
    "poweroff reboot halt kexec suspend hibernate hybrid-sleep suspend-then-hibernate emergency "
    "rescue isolate soft-reboot"
)
_SYSTEMCTL_PERSIST = names(
    "enable mask link set-default edit preset preset-all add-wants add-requires revert reenable"
)
_SYSTEMCTL_SERVICE = names(
    "start stop restart reload kill try-restart reload-or-restart try-reload-or-restart disable "
    "unmask daemon-reload daemon-reexec set-property reset-failed"
)


@HANDLERS.on("systemctl")
def _systemctl(f: Findings) -> None:
    operands = [a for a in f.command.args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    f.subcommand = tuple(operands[:2])
    f.handled_paths = True
    if sub in _SYSTEMCTL_SHUTDOWN:
        f.fact("system_shutdown")
    elif sub in _SYSTEMCTL_PERSIST:
        f.fact("persistence", f"{f.command.text} (runs at boot or changes units)")
    elif sub in _SYSTEMCTL_SERVICE:
        f.fact("system_service")


@HANDLERS.on("service rc-service")
def _service(f: Findings) -> None:
    f.handled_paths = True
    if len(f.command.args) >= 2:
        f.fact("system_service")


@HANDLERS.on("launchctl")
def _launchctl(f: Findings) -> None:
    sub = f.command.args[0] if f.command.args else ""
    f.handled_paths = True
    if sub in {"load", "bootstrap", "enable", "submit"}:
        f.fact("persistence", f"{f.command.text} (loads a launch agent)")
    elif sub in {"unload", "bootout", "stop", "start", "kill", "disable", "remove", "kickstart"}:
        f.fact("system_service")


@HANDLERS.on("systemd-run")
def _systemd_run(f: Findings) -> None:
    f.handled_paths = True
    if any(a.startswith(("--on-", "--timer-property")) for a in f.command.args):
        f.fact("persistence", f"{f.command.text} (schedules a command)")
    f.fact("system_service")


@HANDLERS.on("init telinit")
def _init(f: Findings) -> None:
    f.handled_paths = True
    if any(a in {"0", "6", "1", "s", "S"} for a in f.command.args):
        f.fact("system_shutdown")


@HANDLERS.on("kill")
def _kill(f: Findings) -> None:
    args = f.command.args
    f.handled_paths = True
    if any(a in {"-l", "-L", "--list", "--table"} for a in args):
        return
    position = 0
    if args[:1] and args[0] in {"-s", "-n", "--signal"}:
        position = 2
    elif args[:1] and args[0].startswith("-") and args[0] != "--":
        position = 1  # the first `-N` is the signal; later ones are process groups
    if position < len(args) and args[position] == "--":
        position += 1
    if any(t in {"-1", "1"} for t in args[position:]):
        f.fact("system_shutdown", f"{f.command.text} (kills every process, or init)")
    else:
        f.fact("process_control")


_PKILL_VALUES = names(
    "-g -G -P -s -t -u -U -F --signal --pgroup --group --parent --session --terminal --euid "
    "--uid --pidfile --ns --nslist -o -n"
)
_KILLALL_VALUES = names("-s --signal -u --user -o --older-than -y --younger-than -n --ns")


@HANDLERS.on("pkill killall")
def _pkill(f: Findings) -> None:
    """`pkill -f .`, `pkill -v x`, `killall -u me`: every process, the agent's own too."""
    args = f.command.args
    f.handled_paths = True
    values = _PKILL_VALUES if f.command.program == "pkill" else _KILLALL_VALUES
    values = values - {"-o", "-n"} if f.command.program == "pkill" else values
    patterns: list[str] = []
    negated = False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            patterns.extend(args[index + 1 :])
            break
        if arg.startswith("-") and len(arg) > 1:
            negated = negated or arg in {"-v", "--inverse"}
            index += 2 if arg in values else 1
            continue
        patterns.append(arg)
        index += 1
    if any(a in {"-l", "--list", "-V", "--version", "-h", "--help"} for a in args):
        return
    regex = f.command.program == "pkill" or any(a in {"-r", "--regexp"} for a in args)
    if negated or not patterns or any(_matches_everything(p) for p in patterns if regex):
        f.fact("system_shutdown", f"{f.command.text} (kills every matching process)")
    else:
        f.fact("process_control")


def _matches_everything(pattern: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # `[[:alpha:]]` warns as a nested set
            compiled = re.compile(pattern)
            # `.`, `^`, `.*`, `''`: matches names that share nothing, so every process.
            return all(compiled.search(probe) for probe in ("x", "Q", "7", "/", "_"))
    except re.error:
        return True  # not a pattern Python reads; judged as the worst case


@HANDLERS.on("crontab")
def _crontab(f: Findings) -> None:
    f.handled_paths = True
    if "-l" not in f.command.args:
        f.fact("persistence", f"{f.command.text} (changes scheduled jobs)")


@HANDLERS.on("at batch")
def _at(f: Findings) -> None:
    f.handled_paths = True
    if not any(a in {"-l", "-c"} for a in f.command.args):
        f.fact("persistence", f"{f.command.text} (schedules a job)")


# -- environment and secrets --------------------------------------------------------------


@HANDLERS.on("env")
def _env(f: Findings) -> None:
    c = f.command
    f.handled_paths = True
    # `env` with a command is a wrapper and never gets here; alone it prints everything.
    if c.args and all(a in {"--version", "--help"} for a in c.args):
        return
    if all(a.startswith("-") or "=" in a for a in c.args):
        f.fact("env_dump", f"{c.text} (prints the environment)")


@HANDLERS.on("printenv")
def _printenv(f: Findings) -> None:
    c = f.command
    f.handled_paths = True
    variables = [a for a in c.args if not a.startswith("-")]
    if not variables:
        f.fact("env_dump", f"{c.text} (prints the environment)")
    elif any(is_secret_name(v) for v in variables):
        f.fact("secrets_read", f"{c.text} (prints a secret variable)")


@HANDLERS.on("export declare typeset local readonly")
def _declare(f: Findings) -> None:
    c = f.command
    f.handled_paths = True
    flags = "".join(a[1:] for a in c.args if a.startswith("-"))
    variables = [a for a in c.args if not a.startswith("-")]
    if c.program == "export" and (not variables or "p" in flags):
        f.fact("env_dump", f"{c.text} (prints the environment)")
    elif not variables and (
        (c.program in {"declare", "typeset"} and (not flags or "p" in flags or "x" in flags))
        or c.program == "readonly"
    ):
        f.fact("env_dump", f"{c.text} (prints variables)")
    elif "p" in flags and any(is_secret_name(v) for v in variables):
        f.fact("secrets_read", f"{c.text} (prints a secret variable)")


@HANDLERS.on("compgen")
def _compgen(f: Findings) -> None:
    """`compgen -v` lists the names of every variable (not `-v` for version)."""
    args = f.command.args
    f.handled_paths = True
    listed = {args[i + 1] for i, a in enumerate(args[:-1]) if a == "-A"}
    flags = "".join(a[1:] for a in args if a.startswith("-") and a != "-A")
    if "v" in flags or "e" in flags or listed & {"variable", "export", "arrayvar"}:
        f.fact("shell_state", f"{f.command.text} (lists the names of shell variables)")


@HANDLERS.on("set")
def _set(f: Findings) -> None:
    f.handled_paths = True
    if not f.command.args:
        f.fact("env_dump", "set (prints every variable)")


@HANDLERS.on("ps")
def _ps(f: Findings) -> None:
    f.handled_paths = True
    bsd_e = any(not a.startswith("-") and "e" in a for a in f.command.args)
    if bsd_e or "-E" in f.command.args:
        f.fact("env_dump", f"{f.command.text} (shows the environment of processes)")


_SECRET_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "security": names(
        "find-generic-password find-internet-password dump-keychain export find-key export-keychain"
    ),
    "secret-tool": names("lookup search"),
    "op": names("read item get inject signin"),
    "bw": names("get unlock export"),
    "vault": names("read kv token login"),
    "lpass": names("show export"),
    "gopass": names("show cat"),
    "keyring": names("get"),
    "doppler": names("secrets"),
    "infisical": names("secrets export"),
    "heroku": names("auth:token"),
    "aws": names(
        "export-credentials get-session-token get-secret-value get-parameter get-parameters "
        "get-login-password get-authorization-token assume-role"
    ),
    "gcloud": names("print-access-token print-identity-token access"),
    "az": names("get-access-token"),
    "gh": frozenset(),
    "glab": frozenset(),
}
_PASS_NON_SECRET = names("ls list find search grep init git generate rm mv cp edit insert")
_CLOUD = names("aws gcloud az")


def _secret_store(f: Findings) -> None:
    c = f.command
    f.handled_paths = True
    words = set(c.args)
    if c.program in {"gh", "glab"} and "auth" in words and words & {"token", "--show-token", "-t"}:
        f.fact("secrets_read", f"{c.text} (prints an access token)")
    elif c.program == "aws" and "configure" in words and words & {"get", "export-credentials"}:
        f.fact("secrets_read", f"{c.text} (reads AWS credentials)")
    elif words & _SECRET_SUBCOMMANDS[c.program]:
        f.fact("secrets_read", f"{c.text} (reads a secret store)")
    if c.program not in {"security", "secret-tool", "keyring", "lpass", "gopass"}:
        f.fact("network")
    if c.program in _CLOUD:
        _cloud_destruction(f)
    elif c.program in {"gh", "glab"}:
        operands = [a for a in c.args if not a.startswith("-")]
        if operands[:2] == ["repo", "delete"]:
            f.fact("cloud_destruction", f"{c.text} (deletes a repository)")


@HANDLERS.on("gsutil")
def _gsutil(f: Findings) -> None:
    args = f.command.args
    f.handled_paths = True
    f.fact("network")
    operands = [a for a in args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    recursive = any(a == "--recursive" or re.match(r"^-[a-zA-Z]*[rR]", a) for a in args)
    everything = any(
        "**" in o or (o.rstrip("/").count("/") <= 2 and o.endswith("*")) for o in operands
    )
    if sub == "rb" or (sub == "rm" and (recursive or everything)):
        f.fact("cloud_destruction", f"{f.command.text} (deletes a bucket or its contents)")


for _program in _SECRET_SUBCOMMANDS:
    HANDLERS[_program] = _secret_store
del _program


@HANDLERS.on("pass")
def _pass(f: Findings) -> None:
    f.handled_paths = True
    if f.command.args and not set(f.command.args) & _PASS_NON_SECRET:
        f.fact("secrets_read", f"{f.command.text} (shows a password)")


@HANDLERS.on("gpg gpg2")
def _gpg(f: Findings) -> None:
    args = f.command.args
    f.handled_paths = True
    secret = names("--export-secret-keys --export-secret-subkeys -d --decrypt --export-ownertrust")
    if set(args) & secret:
        f.fact("secrets_read", f"{f.command.text} (exports or decrypts secrets)")
    for index, arg in enumerate(args):
        if not arg.startswith("-"):
            f.arg(index, "read")


_DESTROY = re.compile(r"^(delete|destroy|terminate|rb|purge|deregister|drop)([-_].*)?$", re.I)


_RECURSIVE = names("-r -R --recursive")


def _cloud_destruction(f: Findings) -> None:
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


@HANDLERS.on("terraform tofu pulumi")
def _terraform(f: Findings) -> None:
    operands = [a for a in f.command.args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    f.subcommand = tuple(operands[:2])
    f.handled_paths = True
    if sub == "destroy" or (sub in {"apply", "up"} and "-destroy" in f.command.args):
        f.fact("cloud_destruction", f"{f.command.text} (destroys infrastructure)")
    elif sub in {"apply", "up", "import", "taint", "untaint", "state", "refresh"}:
        f.fact("container", f"{f.command.text} (changes infrastructure)")
    if sub not in {"fmt", "validate", "version", ""}:
        f.fact("network")


# -- containers and clusters --------------------------------------------------------------

_DOCKER_READ = names("ps images logs inspect version info stats top port history events diff")
_DOCKER_LISTING = names("ls ps inspect logs df config top")
_HOST_NAMESPACES = names("--pid --ipc --uts --userns --cgroupns --network --net")
_DANGEROUS_CAPS = names(
    "all sys_admin sys_ptrace sys_module dac_read_search dac_override sys_rawio net_admin "
    "sys_boot bpf perfmon sys_chroot setfcap mknod audit_control mac_admin mac_override"
)
_DOCKER_VALUES = _HOST_NAMESPACES | names(
    "--cap-add --security-opt --device --volume -v --mount --env-file --secret --label-file "
    "--privileged --name -e --env -p --publish -w --workdir -u --user --entrypoint"
)
_UNCONFINED = re.compile(
    r"^((seccomp|apparmor|systempaths)[:=]unconfined|label[:=]disabled?|"
    r"no-new-privileges[:=]false)$",
    re.IGNORECASE,
)


def _docker_settings(args: Sequence[str]) -> list[tuple[str, str | None]]:
    """`--pid host` and `--pid=host` alike: (option, value) pairs, names lower-cased."""
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(args):
        name, equals, value = args[index].partition("=")
        name = name.lower()
        if equals:
            pairs.append((name, value))
        elif name in _DOCKER_VALUES - {"--privileged"} and index + 1 < len(args):
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


@HANDLERS.on("docker podman nerdctl docker-compose")
def _docker(f: Findings) -> None:
    args = f.command.args
    operands = [a for a in args if not a.startswith("-")]
    f.subcommand = tuple(operands[:2])
    f.handled_paths = True
    sub = operands[0] if operands else ""
    if args and all(a in {"--version", "-v", "--help", "-h"} for a in args):
        return
    if sub in _DOCKER_READ or (len(operands) > 1 and operands[1] in _DOCKER_LISTING):
        return
    f.fact("container", f"{f.command.text} ({f.command.program} {sub})")
    if operands[1:2] == ["prune"] and sub in {"system", "volume"}:
        flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
        if "a" in flags or {"--all", "--volumes"} & set(args):
            f.fact("destructive_delete", f"{f.command.text} (deletes every image or volume)")
    if any(_privileged(name, value) for name, value in _docker_settings(args)):
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


_PRIVILEGED_POD = re.compile(
    r"\"(privileged|hostPID|hostNetwork|hostIPC|allowPrivilegeEscalation)\"\s*:\s*true|"
    r"\"hostPath\"|--privileged(=true)?\b",
    re.IGNORECASE,
)
_KUBECTL_READ = names(
    "get describe logs top explain version api-resources api-versions cluster-info config diff auth"
)


@HANDLERS.on("kubectl oc")
def _kubectl(f: Findings) -> None:
    args = f.command.args
    operands = [a for a in args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    f.subcommand = tuple(operands[:2])
    f.handled_paths = True
    f.fact("network")
    raw = any(a == "--raw" or (a.startswith("--raw=") and a != "--raw=false") for a in args)
    if sub == "config" and "view" in operands and raw:
        f.fact("secrets_read", f"{f.command.text} (prints cluster credentials)")
    elif (
        sub in {"get", "describe"}
        and any(o.startswith("secret") for o in operands[1:])
        and any(a.startswith(("-o", "--output")) for a in args)
    ):
        f.fact("secrets_read", f"{f.command.text} (prints secret values)")
    if _PRIVILEGED_POD.search(" ".join(args)):
        f.fact("privilege_escalation", f"{f.command.text} (a privileged pod)")
    if sub == "delete" and (
        "--all" in args or (operands[1:2] and operands[1] in {"namespace", "ns", "node", "nodes"})
    ):
        f.fact("cloud_destruction", f"{f.command.text} (deletes cluster resources)")
    elif sub not in _KUBECTL_READ:
        f.fact("container", f"{f.command.text} (changes the cluster)")


@HANDLERS.on("helm")
def _helm(f: Findings) -> None:
    operands = [a for a in f.command.args if not a.startswith("-")]
    f.subcommand = tuple(operands[:2])
    f.handled_paths = True
    f.fact("network")
    reading = names("list ls status get show search template lint version history env")
    if operands and operands[0] not in reading:
        f.fact("container", f"{f.command.text} (changes releases)")


# -- databases ----------------------------------------------------------------------------

_SQL_DESTROY = re.compile(
    r"\b(drop\s+(table|database|schema|view|index|user|role|collection|keyspace|"
    r"materialized)|truncate\b|delete\s+from\s+[\w.\"`\[\]]+\s*(;|$)|flushall|flushdb|"
    r"dropdatabase\s*\(|\.drop\s*\(\s*\)|alter\s+table\s+\S+\s+drop\b)",
    re.IGNORECASE,
)
_SQL_COMMENT = re.compile(r"/\*.*?(\*/|$)|--[^\n]*|#[^\n]*", re.DOTALL)
_DATABASES = (
    "psql mysql mariadb sqlite3 sqlite mongo mongosh redis-cli clickhouse-client clickhouse "
    "cockroach sqlcmd duckdb cqlsh pgcli mycli litecli usql"
)


_ALWAYS_TRUE = re.compile(
    r"\bwhere\s+(?:not\s+false|true|1|1\s*=\s*1|(?P<q>'[^']*'|\d+)\s*=\s*(?P=q)|"
    r"(?P<c>[\w.\"`]+)\s*=\s*(?P=c)|(?P<d>[\w.\"`]+)\s+is\s+not\s+null\s+or\s+(?P=d)\s+is\s+null|"
    r"1\s*<>\s*0|0\s*=\s*0)\s*$",
    re.IGNORECASE,
)
_UNFILTERED_UPDATE = re.compile(
    r"^\s*update\s+\S+\s+set\b(?!.*\bwhere\b)", re.IGNORECASE | re.DOTALL
)
_DELETE = re.compile(r"^\s*delete\s+from\b", re.IGNORECASE)
_MEANING = re.compile(
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


@HANDLERS.on(_DATABASES)
def _database(f: Findings) -> None:
    c = f.command
    f.handled_paths = True
    f.fact("database", f"{c.text} (talks to a database)")
    # Comments are blanks to SQL: `DROP/**/TABLE x` is `DROP TABLE x`.
    texts = [_SQL_COMMENT.sub(" ", text) for text in (*c.args, c.stdin_text or "")]
    if any(_SQL_DESTROY.search(text) or _destroys_by_meaning(text) for text in texts):
        f.fact("sql_destruction", f"{c.program}: drops, truncates or deletes all rows")
    for index, arg in enumerate(c.args):
        if arg in {"-f", "--file"}:
            f.arg(index + 1, "read")
    file_database = c.program in {"sqlite3", "sqlite", "duckdb", "litecli"}
    if file_database and c.args and not c.args[0].startswith("-"):
        f.arg(0, "write")


# -- shell builtins -----------------------------------------------------------------------


@HANDLERS.on("cd pushd")
def _cd(f: Findings) -> None:
    args = [a for a in f.command.args if a not in {"-L", "-P", "-e", "-@"}]
    f.handled_paths = True
    if not args:
        f.text_path("~", "cd")
    elif args[0] == "-":
        f.text_path("-", "cd", dynamic=True)
    else:
        f.arg(f.command.args.index(args[0]), "cd")


@HANDLERS.on("alias")
def _alias(f: Findings) -> None:
    f.handled_paths = True
    if any("=" in a for a in f.command.args):
        f.fact("shell_state", f"{f.command.text} (defines an alias)")


@HANDLERS.on("shopt")
def _shopt(f: Findings) -> None:
    f.handled_paths = True
    if "expand_aliases" in f.command.args:
        f.fact("shell_state", f"{f.command.text} (turns on aliases)")


@HANDLERS.on("hash")
def _hash(f: Findings) -> None:
    f.handled_paths = True
    if "-p" in f.command.args:
        f.fact("env_change", f"{f.command.text} (maps a command name to another file)")


@HANDLERS.on("enable")
def _enable(f: Findings) -> None:
    f.handled_paths = True
    if f.command.args:
        f.fact("shell_state", f"{f.command.text} (changes shell builtins)")


@HANDLERS.on("hostname")
def _hostname(f: Findings) -> None:
    f.handled_paths = True
    args = f.command.args
    if any(not a.startswith("-") for a in args) or any(a in {"-F", "--file", "-b"} for a in args):
        f.fact("system_admin", f"{f.command.text} (sets the host name)")


@HANDLERS.on("umask")
def _umask(f: Findings) -> None:
    f.handled_paths = True
    if any(not a.startswith("-") for a in f.command.args):
        f.fact("shell_state", f"{f.command.text} (changes default permissions)")


@HANDLERS.on("open xdg-open gio")
def _open(f: Findings) -> None:
    f.handled_paths = True
    f.fact("run_script", f"{f.command.text} (opens a file or URL with another program)")
    for index, arg in enumerate(f.command.args):
        if not arg.startswith("-") and "://" not in arg:
            f.arg(index, "exec")


NO_PATH_PROGRAMS = names(
    "echo printf true false yes seq sleep expr tr basename dirname test [ [[ : let unset which "
    "whereis type help info whatis apropos id whoami groups uname hostname uptime nproc arch "
    "exit return shift wait jobs fg bg disown getopts read mapfile readarray pwd dirs popd tput "
    "clear reset stty tty logname users who w last lastlog free vmstat iostat lscpu lsblk lsusb "
    "lspci locale getconf cal ncal factor numfmt history fc caller compgen complete "
    "compopt times ulimit logout suspend break continue sync nice renice command trap"
)
"""Programs whose arguments are words, numbers or names, never files they open."""


def _no_paths(f: Findings) -> None:
    f.handled_paths = True


for _program in NO_PATH_PROGRAMS - HANDLERS.keys():
    HANDLERS[_program] = _no_paths
del _program
