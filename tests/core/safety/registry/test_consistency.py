"""The registry as a whole: facts it names exist, every former code handler's program is a spec,
and no option a spec does not list turns a question into an allow."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.safety.registry.conftest import Analyse, Decide
from tether.core.safety.facts import FACTS
from tether.core.safety.registry import REGISTRY, Node, nodes, registry_facts

P = pytest.param

# Every program that had a code handler in programs/files.py or programs/system.py.
_FORMER_HANDLERS = (
    "rm rmdir unlink shred srm wipe find gfind fd fdfind cp gcp mv gmv ln install touch mkdir "
    "mkfifo mknod truncate tee sponge dd dcfldd sed gsed awk gawk mawk nawk sort uniq xxd split "
    "csplit patch tar gtar bsdtar unzip zip 7z 7za 7zz gzip gunzip bzip2 bunzip2 xz unxz zstd "
    "unzstd lz4 compress uncompress vi vim nvim nano emacs ed ex micro pico chmod chattr chown "
    "chgrp setfacl cat more md5sum sha1sum sha256sum sha512sum cksum rev zcat head tail wc nl "
    "cut column strings od hexdump shasum b2sum tac fold fmt paste join comm expand unexpand bat "
    "batcat ls gls du df stat realpath readlink base64 base32 basenc diff cmp sdiff colordiff "
    "man less file tree grep egrep fgrep zgrep ggrep rg ripgrep jq gojq jaq yq date gdate "
    "sudo doas su pkexec run0 runuser sg newgrp chroot nsenter unshare setcap sudoedit mount "
    "umount swapon swapoff modprobe insmod rmmod depmod iptables ip6tables iptables-restore nft "
    "ufw firewall-cmd pfctl setenforce useradd userdel usermod groupadd groupdel groupmod "
    "adduser deluser addgroup delgroup chpasswd passwd chsh chfn vipw vigr visudo hostnamectl "
    "timedatectl update-alternatives ldconfig dscl nvram csrutil spctl tccutil sysadminctl "
    "update-grub grub-install efibootmgr auditctl loginctl fdisk sfdisk gdisk sgdisk cfdisk "
    "parted wipefs blkdiscard hdparm mkswap mke2fs mkdosfs mkntfs flashrom sg_format badblocks "
    "ddrescue lvremove vgremove pvremove shutdown reboot halt poweroff killall5 skill xkill "
    "cryptsetup zpool zfs nvme diskutil sysctl ip systemctl service rc-service launchctl "
    "systemd-run init telinit kill pkill killall crontab at batch env printenv export declare "
    "typeset local readonly compgen set ps security secret-tool op bw vault lpass gopass keyring "
    "doppler infisical heroku aws gcloud az gh glab gsutil pass gpg gpg2 terraform tofu pulumi "
    "docker podman nerdctl docker-compose kubectl oc helm psql mysql mariadb sqlite3 sqlite "
    "mongo mongosh redis-cli clickhouse-client clickhouse cockroach sqlcmd duckdb cqlsh pgcli "
    "mycli litecli usql cd pushd alias shopt hash enable hostname umask open xdg-open gio "
    "echo printf true false yes seq sleep expr tr basename dirname test [ [[ : let unset which "
    "whereis type help info whatis apropos id whoami groups uname uptime nproc arch exit return "
    "shift wait jobs fg bg disown getopts read mapfile readarray pwd dirs popd tput clear reset "
    "stty tty logname users who w last lastlog free vmstat iostat lscpu lsblk lsusb lspci "
    "locale getconf cal ncal factor numfmt history fc caller complete compopt times ulimit "
    "logout suspend break continue sync nice renice command trap"
)
FORMER_HANDLERS = _FORMER_HANDLERS.split()


def test_every_former_handler_program_is_registered() -> None:
    missing = [name for name in FORMER_HANDLERS if name not in REGISTRY]
    assert not missing


def test_every_fact_a_spec_names_exists() -> None:
    unknown = sorted(registry_facts() - FACTS.keys())
    assert not unknown


def test_every_node_that_takes_any_option_carries_a_fact() -> None:
    """Also the nodes for unlisted subcommands, which the older test does not walk.

    A program that runs code says why through the code scan its spec names."""
    code = {"interpreter", "shell", "eval", "source", "runtime"}
    loose = [
        name
        for name, root in REGISTRY.items()
        for node in nodes(root)
        if node.any_options and not node.facts and not code & set(root.scan)
    ]
    assert not loose


# Programs from registry/files.py and registry/system.py that a preset allows bare.
_ALLOWED_BASES = [
    "tar -tzf x.tgz",
    "unzip -l x.zip",
    "date +%s",
    "hostname",
    "ps aux",
    "cd src",
    "set -e",
    "printenv HOME",
    "cat README.md",
    "sed -n 1p README.md",
    "awk '{print}' README.md",
    "jq . x.json",
    "grep -e foo README.md",
    "find . -name x",
    "man ls",
    "less README.md",
    "du -sh src",
]


def _listed_bundle(spec: Node, option: str) -> bool:
    for position, letter in enumerate(option[1:], start=1):
        opt = spec.options.get(f"-{letter}")
        if opt is None and spec.numeric and letter.isdigit():
            continue  # `grep -0A 2`: a context count, then a listed letter
        if opt is None:
            return False
        if (opt.takes_value or opt.optional_value) and position < len(option) - 1:
            return True  # the rest of the word is the value
    return True


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    base=st.sampled_from(_ALLOWED_BASES),
    option=st.one_of(
        st.from_regex(r"--[a-z]{3,12}(-[a-z]{2,8})?(=[a-z/.]{1,6})?", fullmatch=True),
        st.from_regex(r"-[A-Za-z0-9]{1,3}", fullmatch=True),
    ),
)
def test_an_unknown_option_never_turns_ask_into_allow(
    decide: Decide, base: str, option: str
) -> None:
    words = shlex.split(base)
    spec = REGISTRY[words[0]]
    listed = any(name == option.partition("=")[0] for node in nodes(spec) for name in node.options)
    if listed or any(n.startswith(option.partition("=")[0]) for n in spec.options):
        return  # listed, or a prefix of a listed long option (read as that option)
    if option[1:].isdigit():
        return  # `-5`: a count where the program takes one
    if not option.startswith("--") and _listed_bundle(spec, option):
        return  # a bundle of listed letters (`-la`), or a listed letter with its value
    decision, kinds = decide(shlex.join([*words[:1], option, *words[1:]]))
    assert decision != "allow", (option, kinds)


@pytest.mark.parametrize("base", _ALLOWED_BASES)
def test_the_bases_are_allowed(decide: Decide, base: str) -> None:
    """The property above starts from calls that are allowed, so it tests something."""
    decision, kinds = decide(base)
    assert decision == "allow", kinds


_DETECTED = sorted(
    name for name, root in REGISTRY.items() if any(node.detect for node in nodes(root))
)
_WORD = st.one_of(
    st.sampled_from(["-", "--", "-i", "''", "-1", "1", "+", "=", ";", "{}", "-x", "--x=", "a=b"]),
    st.text(alphabet="-+=/.:*~abcdefrRxX019 ", min_size=0, max_size=8),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(program=st.sampled_from(_DETECTED), words=st.lists(_WORD, max_size=6))
def test_detectors_judge_any_words_without_failing(
    analyse: Analyse, program: str, words: list[str]
) -> None:
    """Malformed calls are judged (facts or none), never an exception that stops the gate."""
    analysis = analyse(shlex.join([program, *words]))
    assert analysis.command.program == program
