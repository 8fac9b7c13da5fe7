"""Specs of the programs that act on the machine: privileges, disks, services, processes,
containers and clusters, clouds, databases, secret stores and the shell's own state.

Most of them are never read-only: their facts (`privilege_escalation`,
`disk_destruction`, `system_service`...) ask or deny on their own, so a spec
that takes any option says only what the program is. Where a program has
harmless calls (`systemctl status`, `crontab -l`), the spec
lists them and anything else carries the program's fact. `PRIVILEGED` is the
one list of programs that run something with other privileges; the analyzer
reads it for wrappers (`sudo rm`), as the specs do for calls.
"""

from __future__ import annotations

from tether.core.safety.registry.spec import Node, alias, program, sub

__all__ = ["PRIVILEGED", "SPECS"]

_HELP = "--help --version"


def _flagged(names: str, facts: str, detect: str = "") -> dict[str, Node]:
    """Programs whose every use carries `facts`, whatever the options: they ask on their own."""
    return program(names, operands="v", facts=facts, any_options=True, detect=detect)


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
_DESTROYS = sub("", operands="v", facts="disk_destruction", any_options=True)
_READS = sub("", operands="v")


def _storage(names: str, reading: str, destroying: str, nocase: bool = False) -> dict[str, Node]:
    """A storage tool: `reading` subcommands only look, `destroying` ones erase."""
    return program(
        names,
        _HELP,
        operands="-",
        subs={
            **dict.fromkeys(reading.split(), _READS),
            **dict.fromkeys(destroying.split(), _DESTROYS),
        },
        other=sub("", operands="v", facts="system_admin", any_options=True),
        nocase=nocase,
    )


_SYSTEMCTL_READ = (
    "status show cat list-units list-unit-files list-sockets list-timers list-jobs "
    "list-dependencies is-active is-enabled is-failed is-system-running get-default "
    "show-environment"
)
_SYSTEMCTL_SHUTDOWN = (
    "poweroff reboot halt kexec suspend hibernate hybrid-sleep suspend-then-hibernate emergency "
    "rescue isolate soft-reboot"
)
_SYSTEMCTL_PERSIST = (
    "enable mask link set-default edit preset preset-all add-wants add-requires revert reenable"
)
_SYSTEMCTL_SERVICE = (
    "start stop restart reload kill try-restart reload-or-restart try-reload-or-restart disable "
    "unmask daemon-reload daemon-reexec set-property reset-failed set-environment "
    "unset-environment import-environment"
)
_SYSTEMCTL_GLOBAL = (
    "--user --system -q|--quiet --no-pager --no-legend --no-ask-password -a|--all "
    "-t|--type= --state= -p|--property= -l|--full --value -n|--lines= -o|--output= "
    "--plain -r|--recursive --failed -H|--host= -M|--machine= --now -f|--force "
    "--no-block --wait --runtime --global " + _HELP
)
_DATABASES = (
    "psql mysql mariadb mongo mongosh redis-cli clickhouse-client clickhouse "
    "cockroach sqlcmd cqlsh pgcli mycli usql"
)
_SECRET_STORES_LOCAL = "security secret-tool keyring lpass gopass"
_SECRET_STORES_REMOTE = "op bw vault doppler infisical heroku"
_INFRASTRUCTURE = (
    "plan init apply destroy import output show state taint untaint refresh workspace "
    "providers console graph get login logout test force-unlock modules metadata up preview "
    "stack config"
)

SPECS: dict[str, Node] = {
    # -- privileges, administration, disks ------------------------------------------------
    **_flagged(_PRIVILEGE, "privilege_escalation"),
    **_flagged(_ADMIN, "system_admin"),
    **_flagged(_DISK, "disk_destruction"),
    # `mkfs.ext4`, `newfs_msdos`: every file-system maker, by family (see `FAMILIES`).
    **_flagged("mkfs newfs", "disk_destruction"),
    **_flagged("shutdown reboot halt poweroff killall5", "system_shutdown"),
    **_flagged("skill xkill", "process_control"),
    **_storage(
        "cryptsetup",
        "status luksDump isLuks tcryptDump",
        "luksFormat erase luksRemoveKey",
        nocase=True,
    ),
    **_storage("zpool", "status list iostat get history", "destroy labelclear"),
    **_storage("zfs", "list get", "destroy"),
    **_storage("nvme", "list id-ctrl id-ns smart-log error-log", "format sanitize"),
    **_storage(
        "diskutil",
        "list info activity listFilesystems",
        "eraseDisk eraseVolume partitionDisk zeroDisk randomDisk secureErase reformat "
        "deleteContainer",
        nocase=True,
    ),
    **program(
        "sysctl",
        "-a|-A|-X|--all -n|--values -N|--names -e|--ignore -q|--quiet -b|--binary "
        "-r|--pattern= -w|--write!system_admin -p|--load=?!system_admin --system!system_admin "
        + _HELP,
        operands="v",
        detect="kernel_settings",
    ),
    **program(
        "ip",
        "-4 -6 -s|-stats|-statistics -d|-details -j|-json -p|-pretty -c|-color=? -br|-brief "
        "-o|-oneline -n|-netns= -h|-human " + _HELP,
        operands="v",
        detect="network_changes",
    ),
    # -- services and scheduled work --------------------------------------------------------
    **program(
        "systemctl",
        _SYSTEMCTL_GLOBAL,
        operands="-",
        subs={
            **dict.fromkeys(_SYSTEMCTL_READ.split(), sub("", operands="v")),
            **dict.fromkeys(
                _SYSTEMCTL_SHUTDOWN.split(),
                sub("", operands="v", facts="system_shutdown", any_options=True),
            ),
            **dict.fromkeys(
                _SYSTEMCTL_PERSIST.split(),
                sub("", operands="v", facts="persistence", any_options=True),
            ),
            **dict.fromkeys(
                _SYSTEMCTL_SERVICE.split(),
                sub("", operands="v", facts="system_service", any_options=True),
            ),
        },
        other=sub("", operands="v", facts="system_service", any_options=True),
    ),
    **program(
        "service rc-service", "--status-all " + _HELP, operands="v", operand_facts="system_service"
    ),
    **program(
        "launchctl",
        _HELP,
        operands="-",
        subs={
            **alias(sub("", operands="v"), "list", "print", "print-disabled", "version", "help"),
            **alias(
                sub("", operands="v", facts="persistence", any_options=True),
                "load",
                "bootstrap",
                "enable",
                "submit",
            ),
            **dict.fromkeys(
                ["unload", "bootout", "stop", "start", "kill", "disable", "remove", "kickstart"],
                sub("", operands="v", facts="system_service", any_options=True),
            ),
        },
        other=sub("", operands="v", facts="system_service", any_options=True),
    ),
    **program(
        "systemd-run",
        "--on-*!persistence --timer-property=!persistence",
        operands="v",
        facts="system_service",
        any_options=True,
    ),
    **program(
        "init telinit",
        _HELP,
        operands="-",
        subs={
            **dict.fromkeys(
                ("0", "6", "1", "s", "S"), sub("", operands="-", facts="system_shutdown")
            ),
            **dict.fromkeys(
                ("2", "3", "4", "5", "q", "Q", "u", "U"),
                sub("", operands="-", facts="system_service"),
            ),
        },
        other=sub("", operands="v", facts="system_service", any_options=True),
    ),
    **program(
        "crontab",
        "-l!~persistence -u= -e -r -i -s -n -c " + _HELP,
        operands="r",
        facts="persistence",
    ),
    **program(
        "at batch",
        "-l!~persistence -c!~persistence -q= -f=r -m -M -t= -v -r -d " + _HELP,
        operands="v",
        facts="persistence",
    ),
    # -- processes --------------------------------------------------------------------------
    **program(
        "kill",
        "-s|--signal= -n= -l|--list=? -L|--table -q|--queue= --timeout= --verbose " + _HELP,
        operands="v",
        numeric=True,
        detect="kill_targets",
        any_options=True,
        facts="process_control",
    ),
    **program(
        "pkill",
        "-g|--pgroup= -G|--group= -P|--parent= -s|--session= -t|--terminal= -u|--euid= "
        "-U|--uid= -F|--pidfile= --ns= --nslist= -f|--full -x|--exact -i|--ignore-case "
        "-n|--newest -o|--oldest -v|--inverse -e|--echo -c|--count -signal= -l|--list-name "
        "-a|--list-full -q|--queue= -r|--runstates= -A|--ignore-ancestors -H|--require-handler "
        "-V|--version -h|--help",
        operands="v",
        numeric=True,
        any_options=True,
        detect="pkill_patterns",
        facts="process_control",
    ),
    **program(
        "killall",
        "-s|--signal= -u|--user= -o|--older-than= -y|--younger-than= -n|--ns= -e|--exact "
        "-I|--ignore-case -g|--process-group -i|--interactive -l|--list -q|--quiet "
        "-r|--regexp -v|--verbose -w|--wait -Z|--context= -V|--version -h|--help",
        operands="v",
        numeric=True,
        any_options=True,
        detect="pkill_patterns",
        facts="process_control",
    ),
    # -- the environment and the shell's state ----------------------------------------------
    **program(
        "env",
        "-i|--ignore-environment -0|--null -u|--unset= -C|--chdir=d -S|--split-string= "
        "-v|--debug --help!~env_dump --version!~env_dump",
        operands="v",
        facts="env_dump",
    ),
    **program(
        "declare typeset local readonly",
        "-a -A -f -F -g -i -I -l -n -p -r -t -u -x +a +A +f +i +l +n +r +t +u +x",
        operands="v",
        detect="declared_variables",
    ),
    **program(
        "compgen",
        "-a -b -c -d -e -f -g -j -k -s -u -v -A= -G= -W= -X= -P= -S= -o= -V= -F=!shell_state -C=x",
        operands="v",
        detect="listed_variables",
    ),
    **program("alias", "-p", operands="v", operand_facts="shell_state"),
    **program("hash", "-r -d -l -t -p=r!env_change", operands="v"),
    **program("enable", "-a -n -p -s -d -f=f", operands="v", operand_facts="shell_state"),
    **program("umask", "-p -S", operands="v", operand_facts="shell_state"),
    # -- builtins and programs whose operands are words, never files ------------------------
    **program("let", "", operands="v"),
    **program("trap", "-p -l", operands="v"),
    **program("nice", "-n|--adjustment= " + _HELP, operands="v", numeric=True),
    **program("shift break continue logout suspend caller times", "", operands="v"),
    **program("jobs", "-l -n -p -r -s -x", operands="v"),
    **program("fg bg", "", operands="v"),
    **program("disown", "-a -h -r", operands="v"),
    **program("getopts", "", operands="v"),
    **program(
        "ulimit",
        "-a -b -c -d -e -f -H -i -k -l -m -n -p -q -r -s -S -t -u -v -x -P -T -R",
        operands="v",
        numeric=True,
    ),
    **program("history", "-c -d= -a -n -r -w -p -s", operands="v", numeric=True),
    **program("fc", "-l -n -r -s -e=x", operands="v", numeric=True),
    **program(
        "complete compopt",
        "-a -b -c -d -e -f -g -j -k -s -u -v -p -r -D -E -I "
        "-o= -A= -G= -W= -X= -P= -S= -F=!shell_state -C=x",
        operands="v",
    ),
    **program(
        "info", "-a|--all -k|--apropos= -n|--node= -o|--output=w -w|--where " + _HELP, operands="v"
    ),
    **program("reset", "-c -e= -i= -k= -q -r -s -w -x -I -Q -V", operands="-"),
    **program("stty", "-a|--all -g|--save -F|--file=r " + _HELP, operands="v"),
    **program("logname users", _HELP, operands="v"),
    **program(
        "who w",
        "-a|--all -b|--boot -d|--dead -H|--heading -l|--login -m -q|--count "
        "-r|--runlevel -s|--short -t|--time -u|--users -h|--no-header -f|--from "
        "-i|--ip -o|--old-style " + _HELP,
        operands="v",
    ),
    **program(
        "last lastlog",
        "-n= -a -d -F -i -w -x -R -t= -s= -u= -b= " + _HELP,
        operands="v",
        numeric=True,
    ),
    **program(
        "vmstat iostat", "-a -d -D -f -m -s -S= -t -w -x -c -h -k -y -z -p= " + _HELP, operands="v"
    ),
    **program(
        "lsblk",
        "-a|--all -b|--bytes -d|--nodeps -f|--fs -J|--json -l|--list "
        "-o|--output= -p|--paths -S|--scsi -t|--topology -n|--noheadings " + _HELP,
        operands="v",
    ),
    **program("lsusb lspci", "-v -vv -vvv -t -n -nn -k -s= -d= -D= " + _HELP, operands="-"),
    **program(
        "factor numfmt",
        "--from= --to= --padding= --suffix= --format= --field= "
        "--invalid= --grouping --header=? -d|--delimiter= -z|--zero-terminated " + _HELP,
        operands="v",
    ),
    **program("sync", "-d|--data -f|--file-system " + _HELP, operands="v"),
    **program(
        "renice",
        "-n|--priority= -g|--pgrp -p|--pid -u|--user " + _HELP,
        operands="v",
        numeric=True,
        facts="process_control",
    ),
    # -- opening things with other programs ---------------------------------------------------
    **program(
        "open xdg-open gio",
        "-a= -b= -e -t -f -F -W -R -n -g -j -h --args",
        operands="x",
        facts="run_script",
        any_options=True,
    ),
    # -- containers, clusters, infrastructure -------------------------------------------------
    **program(
        "docker-compose",
        "-f|--file=r -p|--project-name= --project-directory=d --env-file=r " + _HELP,
        operands="v",
        facts="container",
        any_options=True,
        detect="container_settings",
    ),
    **program(
        "pulumi",
        "-chdir=d " + _HELP,
        operands="-",
        subs={
            **dict.fromkeys(("fmt", "validate", "version"), sub("", operands="r")),
            **dict.fromkeys(
                _INFRASTRUCTURE.split(),
                sub("", operands="v", facts="network", any_options=True),
            ),
        },
        detect="infrastructure_changes",
    ),
    # -- clouds and forges: `cloud.py`; secret stores ------------------------------------------
    **program(
        _SECRET_STORES_REMOTE,
        "",
        operands="v",
        facts="network",
        any_options=True,
        detect="secret_reads",
    ),
    # Local stores: only a bare subcommand is vetted; the words that print a secret ask.
    **program(_SECRET_STORES_LOCAL, "", operands="v", detect="secret_reads"),
    # `pass NAME` and `pass show NAME` print a password; the other subcommands do not.
    **program(
        "pass",
        "-c|--clip=? -q|--qrcode=? " + _HELP,
        operands="-",
        subs={
            **dict.fromkeys(
                [
                    "ls",
                    "list",
                    "find",
                    "search",
                    "grep",
                    "init",
                    "git",
                    "generate",
                    "rm",
                    "mv",
                    "cp",
                    "edit",
                    "insert",
                ],
                sub("", operands="v"),
            ),
        },
        other=sub("-c|--clip=? -q|--qrcode=?", operands="v", facts="secrets_read"),
    ),
    **program(
        "gpg gpg2",
        "--export-secret-keys!secrets_read --export-secret-subkeys!secrets_read "
        "-d|--decrypt!secrets_read --export-ownertrust!secrets_read -k|--list-keys "
        "-K|--list-secret-keys --fingerprint --verify -a|--armor --batch -q|--quiet "
        "-v|--verbose --with-colons --keyid-format= " + _HELP,
        operands="r",
    ),
    # -- databases ------------------------------------------------------------------------
    **program(
        _DATABASES,
        "-f|--file=r -c|--command= -e|--execute=",
        operands="v",
        facts="database",
        any_options=True,
        detect="sql_text",
    ),
    **program(
        "sqlite3 sqlite duckdb litecli",
        "-cmd= -init=f",
        operands="w v",
        facts="database",
        any_options=True,
        detect="sql_text",
    ),
}

PRIVILEGED: frozenset[str] = frozenset(
    name for name, node in SPECS.items() if "privilege_escalation" in node.facts
)
"""Programs that run something with other privileges (`sudo`, `doas`, `nsenter`...)."""

FAMILIES: tuple[tuple[str, str], ...] = (("mkfs", "mkfs"), ("newfs", "newfs"))
"""Name prefixes of program families (`mkfs.ext4`, `newfs_msdos`) -> the family's spec."""
