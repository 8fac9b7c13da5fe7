"""Specs of the programs that act on the machine (registry/system.py), in every spelling."""

from __future__ import annotations

import pytest

from tests.core.safety.registry.conftest import Analyse, Decide
from tether.core.safety.registry import PRIVILEGED, REGISTRY

P = pytest.param

FACTS = [
    # privileges: the one list, as wrappers and as programs
    P("sudo ls", "privilege_escalation", id="sudo-wrapper"),
    P("sudo -u root ls", "privilege_escalation", id="sudo-user"),
    P("doas ls", "privilege_escalation", id="doas"),
    P("su -", "privilege_escalation", id="su"),
    P("pkexec ls", "privilege_escalation", id="pkexec"),
    P("run0 ls", "privilege_escalation", id="run0"),
    P("nsenter -t 1 -m sh", "privilege_escalation", id="nsenter"),
    P("unshare -r sh", "privilege_escalation", id="unshare"),
    P("setcap cap_net_raw+ep x", "privilege_escalation", id="setcap"),
    P("sudoedit /etc/hosts", "privilege_escalation", id="sudoedit"),
    # disks and file systems
    P("fdisk /dev/sda", "disk_destruction", id="fdisk"),
    P("wipefs -a /dev/sda", "disk_destruction", id="wipefs"),
    P("cryptsetup luksFormat /dev/sda", "disk_destruction", id="cryptsetup-luksformat"),
    P("cryptsetup -q luksformat /dev/sda", "disk_destruction", id="cryptsetup-any-case"),
    P("zpool destroy tank", "disk_destruction", id="zpool-destroy"),
    P("zfs destroy tank/x", "disk_destruction", id="zfs-destroy"),
    P("nvme format /dev/nvme0", "disk_destruction", id="nvme-format"),
    P("diskutil eraseDisk JHFS+ x disk2", "disk_destruction", id="diskutil-erase"),
    P("diskutil ERASEDISK JHFS+ x disk2", "disk_destruction", id="diskutil-erase-upper"),
    # administration
    P("mount /dev/sda1 /mnt", "system_admin", id="mount"),
    P("sysctl -w kernel.x=1", "system_admin", id="sysctl-w"),
    P("sysctl --write kernel.x=1", "system_admin", id="sysctl-write"),
    P("sysctl kernel.x=1", "system_admin", id="sysctl-assign"),
    P("sysctl -p", "system_admin", id="sysctl-load"),
    P("ip addr add 1.2.3.4 dev eth0", "system_admin", id="ip-add"),
    P("ip -n ns route flush all", "system_admin", id="ip-netns-flush"),
    P("hostname newname", "system_admin", id="hostname-set"),
    P("hostname -F /etc/hostname", "system_admin", id="hostname-file"),
    P("date -s 2020-01-01", "system_admin", id="date-s"),
    P("date --set=2020-01-01", "system_admin", id="date-set"),
    P("date 010100002020", "system_admin", id="date-operand"),
    # services, shutdown, scheduled work
    P("systemctl restart nginx", "system_service", id="systemctl-restart"),
    P("systemctl --user stop x", "system_service", id="systemctl-user-stop"),
    P("systemctl reboot", "system_shutdown", id="systemctl-reboot"),
    P("systemctl -H host poweroff", "system_shutdown", id="systemctl-host-value"),
    P("systemctl --host=host poweroff", "system_shutdown", id="systemctl-host-long"),
    P("systemctl enable x", "persistence", id="systemctl-enable"),
    P("service nginx restart", "system_service", id="service"),
    P("launchctl load x.plist", "persistence", id="launchctl-load"),
    P("launchctl bootout gui/501 x", "system_service", id="launchctl-bootout"),
    P("systemd-run --on-calendar=daily x", "persistence", id="systemd-run-timer"),
    P("init 0", "system_shutdown", id="init-0"),
    P("telinit 6", "system_shutdown", id="telinit-6"),
    P("shutdown -h now", "system_shutdown", id="shutdown"),
    P("crontab -e", "persistence", id="crontab-edit"),
    P("crontab x", "persistence", id="crontab-install"),
    P("at now", "persistence", id="at"),
    # processes
    P("kill 123", "process_control", id="kill"),
    P("kill -9 -1", "system_shutdown", id="kill-all"),
    P("kill -s KILL -1", "system_shutdown", id="kill-s-all"),
    P("kill -- -1", "system_shutdown", id="kill-dashdash-all"),
    P("kill 1", "system_shutdown", id="kill-init"),
    P("pkill -f .", "system_shutdown", id="pkill-everything"),
    P("pkill --full '.*'", "system_shutdown", id="pkill-full-everything"),
    P("pkill -v x", "system_shutdown", id="pkill-inverse"),
    P("pkill --inverse x", "system_shutdown", id="pkill-inverse-long"),
    P("killall -u me", "system_shutdown", id="killall-user"),
    P("killall -r '.*'", "system_shutdown", id="killall-regexp"),
    P("pkill python", "process_control", id="pkill-one"),
    # the environment
    P("printenv", "env_dump", id="printenv"),
    P("printenv API_TOKEN", "secrets_read", id="printenv-secret"),
    P("env", "env_dump", id="env"),
    P("export", "env_dump", id="export"),
    P("export -p", "env_dump", id="export-p"),
    P("declare -p", "env_dump", id="declare-p"),
    P("declare -p API_TOKEN", "secrets_read", id="declare-p-secret"),
    P("typeset -x", "env_dump", id="typeset-x"),
    P("set", "env_dump", id="set-alone"),
    P("compgen -v", "shell_state", id="compgen-v"),
    P("compgen -A variable", "shell_state", id="compgen-A"),
    P("ps auxe", "env_dump", id="ps-bsd-e"),
    P("ps -E", "env_dump", id="ps-E"),
    P("alias ll='ls -l'", "shell_state", id="alias"),
    P("shopt -s expand_aliases", "shell_state", id="shopt-aliases"),
    P("hash -p /bin/sh ls", "env_change", id="hash-p"),
    # containers and clusters, option values before the subcommand
    P("docker run --privileged x", "privilege_escalation", id="docker-privileged"),
    P("docker run --privileged=true x", "privilege_escalation", id="docker-privileged-true"),
    P("docker -l debug run --pid host x", "privilege_escalation", id="docker-value-then-run"),
    P("docker run --pid=host x", "privilege_escalation", id="docker-pid-equals"),
    P("docker run --cap-add SYS_ADMIN x", "privilege_escalation", id="docker-cap"),
    P("docker run --cap-add=cap_sys_admin x", "privilege_escalation", id="docker-cap-prefix"),
    P("docker run -v /:/host x", "privilege_escalation", id="docker-root-mount"),
    P("docker run --mount=src=/,dst=/h x", "privilege_escalation", id="docker-mount-root"),
    P("podman run --security-opt seccomp=unconfined x", "privilege_escalation", id="podman"),
    P("docker system prune -a", "destructive_delete", id="docker-prune-all"),
    P("docker volume prune --all", "destructive_delete", id="docker-volume-prune"),
    P("docker run x", "container", id="docker-run"),
    P("kubectl -n prod delete ns x", "cloud_destruction", id="kubectl-value-then-delete-ns"),
    P("kubectl --namespace=prod delete pods --all", "cloud_destruction", id="kubectl-all"),
    P("kubectl -n prod delete pod x", "cloud_destruction", id="kubectl-delete-one"),
    P("kubectl get secret x -o yaml", "secrets_read", id="kubectl-secret"),
    P("kubectl config view --raw", "secrets_read", id="kubectl-raw"),
    P("helm -n prod uninstall x", "cloud_destruction", id="helm-value-then-uninstall"),
    P("terraform -chdir=x destroy", "cloud_destruction", id="terraform-chdir-destroy"),
    P("terraform apply -destroy", "cloud_destruction", id="terraform-apply-destroy"),
    P("pulumi destroy", "cloud_destruction", id="pulumi-destroy"),
    # clouds, stores, databases
    P("aws s3 rm s3://b --recursive", "cloud_destruction", id="aws-s3-rm"),
    P("gcloud storage rm -r gs://b", "cloud_destruction", id="gcloud-storage-rm"),
    P("gsutil rm -r gs://b", "cloud_destruction", id="gsutil-rm-r"),
    P("gsutil rb gs://b", "cloud_destruction", id="gsutil-rb"),
    P("gh repo delete x", "cloud_destruction", id="gh-repo-delete"),
    P("gh auth token", "secrets_read", id="gh-token"),
    P("aws secretsmanager get-secret-value --secret-id x", "secrets_read", id="aws-secret"),
    P("vault kv get x", "secrets_read", id="vault"),
    P("security find-generic-password -s x", "secrets_read", id="keychain"),
    P("pass x", "secrets_read", id="pass-name"),
    P("pass show x", "secrets_read", id="pass-show"),
    P("pass -c x", "secrets_read", id="pass-clip"),
    P("gpg --export-secret-keys", "secrets_read", id="gpg-export"),
    P("gpg -d x.gpg", "secrets_read", id="gpg-d"),
    P("gpg --decrypt x.gpg", "secrets_read", id="gpg-decrypt"),
    P("psql -c 'DROP TABLE x'", "sql_destruction", id="psql-drop"),
    P("psql --command='drop/**/table x'", "sql_destruction", id="psql-comment"),
    P("mysql -e 'DELETE FROM users WHERE 1=1'", "sql_destruction", id="mysql-always-true"),
    P("sqlite3 x.db 'update users set admin=1'", "sql_destruction", id="sqlite-no-where"),
    P("redis-cli flushall", "sql_destruction", id="redis-flushall"),
]


@pytest.mark.parametrize(("command", "fact"), FACTS)
def test_facts_of_each_spelling(analyse: Analyse, command: str, fact: str) -> None:
    assert fact in {f.kind for f in analyse(command).facts}


@pytest.mark.parametrize(
    ("command", "absent"),
    [
        P("kubectl --context prod get pods", "container", id="kubectl-context-get"),
        P("docker --log-level debug ps", "container", id="docker-value-then-ps"),
        P("systemctl status nginx", "system_service", id="systemctl-status"),
        P("crontab -l", "persistence", id="crontab-list"),
        P("pass ls", "secrets_read", id="pass-ls"),
        P("printenv HOME", "secrets_read", id="printenv-harmless"),
        P("date +%s", "system_admin", id="date-format"),
        P("hostname -f", "system_admin", id="hostname-print"),
        P("kill -l", "system_shutdown", id="kill-list"),
        P("ps -u steve", "secrets_read", id="ps-user"),
    ],
)
def test_harmless_calls_lack_the_fact(analyse: Analyse, command: str, absent: str) -> None:
    assert absent not in {f.kind for f in analyse(command).facts}


@pytest.mark.parametrize(
    "command",
    [
        P("systemctl status nginx", id="systemctl-status"),
        P("systemctl --no-pager list-units", id="systemctl-list"),
        P("hostname", id="hostname"),
        P("date +%s", id="date"),
        P("ps aux", id="ps"),
        P("cd src", id="cd"),
        P("export LANG=C", id="export-harmless-assign"),
        P("set -e", id="set-e"),
        P("history 10", id="history"),
        P("jobs -l", id="jobs"),
    ],
)
def test_everyday_calls_are_vetted(analyse: Analyse, command: str) -> None:
    assert "unvetted" not in {f.kind for f in analyse(command).facts}


@pytest.mark.parametrize(
    "command",
    [
        P("systemctl frobnicate x", id="systemctl-unknown"),
        P("cryptsetup open x y", id="cryptsetup-unlisted"),
        P("zfs create tank/x", id="zfs-unlisted"),
        P("kubectl frobnicate", id="kubectl-unknown"),
        P("helm frobnicate", id="helm-unknown"),
        P("telinit x", id="telinit-unknown"),
        P("launchctl frobnicate", id="launchctl-unknown"),
        P("pass generate -n x", id="pass-unlisted-option"),
        P("terraform frobnicate", id="terraform-unknown"),
        P("hostname --frob", id="hostname-unknown"),
        P("ps --frob", id="ps-unknown"),
        P("date --frob", id="date-unknown"),
    ],
)
def test_unknown_subcommands_and_options_are_unvetted(analyse: Analyse, command: str) -> None:
    assert "unvetted" in {f.kind for f in analyse(command).facts}


@pytest.mark.parametrize(
    "command",
    [
        P("sudo ls", id="sudo"),
        P("kill -9 -1", id="kill-all"),
        P("systemctl reboot", id="reboot"),
        P("mkfs.xfs /dev/sdb", id="mkfs"),
        P("docker run --privileged x", id="privileged-container"),
        P("kubectl -n prod delete ns x", id="kubectl-delete-namespace"),
        P("psql -c 'TRUNCATE users'", id="sql-truncate"),
        P("printenv AWS_SECRET_ACCESS_KEY", id="printenv-secret"),
    ],
)
def test_hard_denies(decide: Decide, command: str) -> None:
    decision, kinds = decide(command)
    assert decision == "deny", kinds


def test_privileged_programs_are_one_list_in_the_registry() -> None:
    """The wrappers the analyzer treats as privileged are the specs that say so."""
    assert {"sudo", "doas", "su", "pkexec", "run0", "runuser", "chroot", "nsenter"} <= PRIVILEGED
    assert all("privilege_escalation" in REGISTRY[name].facts for name in PRIVILEGED)
