"""Specs of the programs that write, delete, pack, edit and change permissions (registry/files.py).

Each row is a call in one spelling; the same call in its other spellings sits
beside it, so both spellings are pinned to the same facts and paths.
"""

from __future__ import annotations

import pytest

from tests.core.safety.registry.conftest import Analyse, Decide

P = pytest.param

FACTS = [
    # rm: what its targets are decides between a delete and a destructive one
    P("rm x", "file_delete", id="rm-file"),
    P("rm -r build", "recursive_delete", id="rm-r"),
    P("rm -R build", "recursive_delete", id="rm-R"),
    P("rm --recursive build", "recursive_delete", id="rm-recursive"),
    P("rm -rf /", "destructive_delete", id="rm-rf-root"),
    P("rm -fr ~", "destructive_delete", id="rm-fr-home"),
    P("rm -r -f .", "destructive_delete", id="rm-r-f-here"),
    P("rm --recursive --force '*'", "destructive_delete", id="rm-long-glob"),
    P("rm -rf src/..", "destructive_delete", id="rm-climbs-to-here"),
    P("rm -rf --no-preserve-root /x", "destructive_delete", id="rm-no-preserve-root"),
    P("rm -rf $DIR", "destructive_delete", id="rm-dynamic-target"),
    P("/bin/rm -Rf /etc", "destructive_delete", id="rm-by-path"),
    P("rmdir build", "file_delete", id="rmdir"),
    P("unlink x", "file_delete", id="unlink"),
    P("shred -n 3 x", "disk_destruction", id="shred-n"),
    P("shred --iterations=3 x", "disk_destruction", id="shred-iterations"),
    # writes to disk devices, whatever writes them
    P("cp x /dev/sda", "disk_destruction", id="cp-to-disk"),
    P("mv x /dev/nvme0n1", "disk_destruction", id="mv-to-disk"),
    P("cp -t /dev/sdb x", "disk_destruction", id="cp-target-disk"),
    P("cp --target-directory=/dev/sdb x", "disk_destruction", id="cp-target-disk-long"),
    P("tee /dev/sda", "disk_destruction", id="tee-disk"),
    P("touch /dev/sda", "disk_destruction", id="touch-disk"),
    P("dd if=/dev/zero of=/dev/sda", "disk_destruction", id="dd-disk"),
    P("dcfldd of=/dev/mmcblk0", "disk_destruction", id="dcfldd-disk"),
    P("mkfs.ext4 /dev/sda1", "disk_destruction", id="mkfs-family"),
    P("mkfs -t xfs /dev/sda1", "disk_destruction", id="mkfs"),
    P("newfs_msdos /dev/disk2", "disk_destruction", id="newfs-family"),
    # writes
    P("cp a b", "file_write", id="cp"),
    P("ln -s a b", "file_write", id="ln"),
    P("install -m 755 a b", "file_write", id="install"),
    P("touch x", "file_write", id="touch"),
    P("mkdir -p a/b", "file_write", id="mkdir"),
    P("mkdir --parents a/b", "file_write", id="mkdir-long"),
    P("truncate -s 0 x", "file_write", id="truncate"),
    P("tee -a log", "file_write", id="tee-a"),
    P("tee --append log", "file_write", id="tee-append"),
    P("dd if=a of=b", "file_write", id="dd-file"),
    P("split -l 10 x part", "file_write", id="split"),
    P("patch -p1 -i x.patch", "file_write", id="patch"),
    P("zip -r out.zip src", "file_write", id="zip"),
    P("gzip x", "file_write", id="gzip"),
    P("7z a out.7z src", "file_write", id="7z-add"),
    P("tar -czf out.tgz src", "file_write", id="tar-create"),
    P("tar czf out.tgz src", "file_write", id="tar-create-old-style"),
    P("tar --create --file=out.tar src", "file_write", id="tar-create-long"),
    P("tar -xzf x.tgz", "file_write", id="tar-extract"),
    P("unzip x.zip", "file_write", id="unzip"),
    P("sed -i s/a/b/ x", "file_write", id="sed-i"),
    P("sed --in-place s/a/b/ x", "file_write", id="sed-in-place"),
    P("vim x", "file_write", id="vim"),
    P("sort -o out x", "file_write", id="sort-o"),
    # permissions
    P("chmod +x x", "permission_change", id="chmod"),
    P("chmod u+s x", "privilege_escalation", id="chmod-setuid"),
    P("chmod 4755 x", "privilege_escalation", id="chmod-setuid-octal"),
    P("chmod g+s,u+x x", "privilege_escalation", id="chmod-setgid-list"),
    P("chmod -R 777 /", "destructive_permissions", id="chmod-R-root"),
    P("chmod --recursive 777 ~", "destructive_permissions", id="chmod-recursive-home"),
    P("chmod 777 /", "destructive_permissions", id="chmod-root"),
    P("chmod -R -w /", "destructive_permissions", id="chmod-dashed-mode-root"),
    P("chown -R me /", "destructive_permissions", id="chown-R-root"),
    P("chown --recursive me:me ~", "destructive_permissions", id="chown-recursive-home"),
    P("chgrp staff x", "permission_change", id="chgrp"),
    P("chattr +i x", "permission_change", id="chattr-plus"),
    P("chattr -i x", "permission_change", id="chattr-minus"),
    P("chattr -R +i /", "destructive_permissions", id="chattr-R-root"),
    P("setfacl -m u:me:rw x", "permission_change", id="setfacl"),
    P("setfacl --recursive --modify=u:me:rw /", "destructive_permissions", id="setfacl-long"),
    # commands and code
    P("vim -c '!rm -rf /' x", "code_execution", id="vim-c-shell"),
    P("vim +'call system(\"id\")' x", "code_execution", id="vim-plus-system"),
    P("vim -u evil.vim x", "run_script", id="vim-u"),
    P("emacs --eval '(shell-command \"id\")' x", "code_execution", id="emacs-eval"),
    P("tar -I 'sh -c id' -xf x.tar", "code_execution", id="tar-I"),
    P("tar --use-compress-program=evil -cf x.tar src", "code_execution", id="tar-compress-prog"),
    P("tar --to-command=sh -xf x.tar", "code_execution", id="tar-to-command"),
    P("tar -cf host:/x src", "network", id="tar-remote-archive"),
    P("install --strip-program=evil a b", "code_execution", id="install-strip-program"),
]


@pytest.mark.parametrize(("command", "fact"), FACTS)
def test_facts_of_each_spelling(analyse: Analyse, command: str, fact: str) -> None:
    assert fact in {f.kind for f in analyse(command).facts}


PATHS = [
    P("cp a b", {("a", "read"), ("b", "write")}, id="cp-last-is-written"),
    P("cp a b c", {("a", "read"), ("b", "read"), ("c", "write")}, id="cp-many"),
    P("cp -t d a b", {("d", "write"), ("a", "read"), ("b", "read")}, id="cp-t"),
    P("cp --target-directory=d a", {("d", "write"), ("a", "read")}, id="cp-target-long"),
    P("mv a b", {("a", "delete"), ("b", "write")}, id="mv"),
    P("mv -t d a", {("d", "write"), ("a", "delete")}, id="mv-t"),
    P("dd if=a of=b", {("a", "read"), ("b", "write")}, id="dd"),
    P("touch -r ref x", {("ref", "read"), ("x", "write")}, id="touch-reference"),
    P("touch --reference=ref x", {("ref", "read"), ("x", "write")}, id="touch-reference-long"),
    P("chmod --reference=ref x", {("ref", "read"), ("x", "write")}, id="chmod-reference"),
    P("chmod 644 x", {("x", "write")}, id="chmod-mode-is-no-path"),
    P("patch -o out -i in x", {("out", "write"), ("in", "read"), ("x", "write")}, id="patch"),
    P("rm -rf a b", {("a", "delete"), ("b", "delete")}, id="rm"),
    P("tar -czf out.tgz src", {("out.tgz", "write"), ("src", "read")}, id="tar-create"),
    P("tar -xf x.tar -C dest", {("x.tar", "read"), ("dest", "write")}, id="tar-extract-C"),
    P("sed -i s/a/b/ x", {("x", "write")}, id="sed-i-writes"),
    P("sed -e s/a/b/ x y", {("x", "read"), ("y", "read")}, id="sed-e-files"),
    P("sed --expression=s/a/b/ x", {("x", "read")}, id="sed-expression-files"),
    P("grep -e foo x y", {("x", "read"), ("y", "read")}, id="grep-e-files"),
    P("grep --regexp=foo x", {("x", "read")}, id="grep-regexp-files"),
    P("grep -f pats x", {("pats", "read"), ("x", "read")}, id="grep-f"),
    P("rg --files src", {("src", "read")}, id="rg-files"),
    P("awk -f prog.awk x", {("prog.awk", "read"), ("x", "read")}, id="awk-f"),
    P("jq --arg k v .a x.json", {("x.json", "read")}, id="jq-arg-two-words"),
    P("jq --slurpfile k s.json . x.json", {("s.json", "read"), ("x.json", "read")}, id="jq-slurp"),
    P("man ./x.1", {("./x.1", "read")}, id="man-local-path"),
    P("cd src", {("src", "cd")}, id="cd"),
    P("cd", {("~", "cd")}, id="cd-home"),
]


@pytest.mark.parametrize(("command", "expected"), PATHS)
def test_paths_by_role(analyse: Analyse, command: str, expected: set[tuple[str, str]]) -> None:
    paths = {(use.path, use.access) for use in analyse(command).paths}
    assert expected <= paths, paths


@pytest.mark.parametrize(
    ("command", "not_a_path"),
    [
        P("sed -i '' '/^#/d' x", "/^#/d", id="bsd-sed-empty-suffix-script"),
        P("grep -e /etc/x README.md", "/etc/x", id="grep-pattern-value"),
        P("csplit x /a/", "/a/", id="csplit-pattern"),
        P("jq --arg k /etc/passwd .a x.json", "/etc/passwd", id="jq-arg-value"),
        P("chmod 755 x", "755", id="chmod-mode"),
    ],
)
def test_values_are_not_paths(analyse: Analyse, command: str, not_a_path: str) -> None:
    assert not_a_path not in {use.path for use in analyse(command).paths}


@pytest.mark.parametrize(
    "command",
    [
        P("rm --frobnicate x", id="rm-unknown"),
        P("cp --frob a b", id="cp-unknown"),
        P("dd foo=bar", id="dd-unknown-operand"),
        P("dd if=a of=b oflag=direct conv=x iflag=y bogus=1", id="dd-one-unknown-key"),
        P("7z b", id="7z-unknown-subcommand"),
        P("chmod -x x", id="chmod-dashed-mode"),
        P("tar -xzf x.tgz", id="tar-extract-is-not-vetted"),
        P("tar xzf x.tgz", id="tar-extract-old-style"),
        P("unzip -d out x.zip", id="unzip-destination"),
        P("man -l x.1", id="man-local-file"),
        P("gpg -e x", id="gpg-unlisted"),
    ],
)
def test_unlisted_is_unvetted(analyse: Analyse, command: str) -> None:
    assert "unvetted" in {f.kind for f in analyse(command).facts}


@pytest.mark.parametrize(
    "command",
    [
        P("tar -tzf x.tgz", id="tar-list"),
        P("tar tzf x.tgz", id="tar-list-old-style"),
        P("tar --list --file=x.tar", id="tar-list-long"),
        P("unzip -l x.zip", id="unzip-list"),
        P("cat README.md", id="cat"),
        P("zcat x.gz", id="zcat"),
        P("gzip -c x", id="gzip-to-stdout"),
        P("gzip --stdout x", id="gzip-stdout-long"),
        P("sed -n p README.md", id="sed-print"),
        P("sed -e s/a/b/ README.md", id="sed-e"),
        P("grep -e foo README.md", id="grep-e"),
    ],
)
def test_reading_calls_write_nothing(analyse: Analyse, command: str) -> None:
    kinds = {f.kind for f in analyse(command).facts}
    assert not kinds & {"file_write", "unvetted", "file_delete"}, kinds


@pytest.mark.parametrize(
    "command",
    [
        P("rm -rf /", id="rm-root"),
        P("rm -r -f ~", id="rm-home"),
        P("find / -delete", id="find-delete-all"),
        P("fd -x rm", id="fd-exec-rm-everything"),
        P("chmod -R 777 /", id="chmod-root"),
        P("dd if=/dev/zero of=/dev/sda", id="dd-disk"),
        P("cp /dev/zero /dev/sda", id="cp-disk"),
        P("mkfs.ext4 /dev/sda1", id="mkfs"),
        P("shred /dev/sda", id="shred"),
    ],
)
def test_hard_denies(decide: Decide, command: str) -> None:
    decision, kinds = decide(command)
    assert decision == "deny", kinds
