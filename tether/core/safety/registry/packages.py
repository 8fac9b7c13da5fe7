"""Package managers: which subcommands install, remove, update or publish packages.

The test runners and queries of the everyday package managers are specs in
`dev.py` (`npm test`, `pip list`); this module adds, to those specs and to
specs of its own for the system package managers, the subcommands that change
what is installed (`package_install`, `network`). They take any option: their
facts ask already. Options that install whatever the subcommand (`pacman -S`,
`dpkg -i`, `nix-env -i`) carry the fact themselves. A manager with no spec of
its own gets one here whose other subcommands are not vetted (`apt list`
asks): the allowlist rule, like every other spec.
"""

from __future__ import annotations

from tether.core.safety.registry.dev import SPECS as _DEV
from tether.core.safety.registry.spec import Node, program, sub

__all__ = ["INSTALLS", "SPECS"]

INSTALLS: dict[str, str] = {
    "pip pip3": "install uninstall download wheel",
    "pipx": "install uninstall upgrade upgrade-all inject reinstall run",
    "uv": "add remove sync lock",
    "poetry": "add remove install update lock publish self",
    "pdm": "add remove install update sync lock publish",
    "conda mamba": "install remove uninstall update upgrade create",
    "micromamba": "install remove uninstall update create",
    "npm pnpm": (
        "install i ci add uninstall remove rm un r unlink update up upgrade link ln publish "
        "unpublish dedupe prune rebuild exec x init create dlx import"
    ),
    "yarn": "install add remove upgrade up link publish dlx create global",
    "bun": "install i add a remove rm update link publish create x",
    "deno": "install add remove uninstall",
    "cargo": "install uninstall add remove rm publish",
    "go": "install get",
    "gem": "install uninstall update push",
    "bundle": "install add update remove",
    "composer": "require install update remove global",
    "apt": "install remove purge upgrade dist-upgrade full-upgrade autoremove reinstall",
    "apt-get": "install remove purge upgrade dist-upgrade autoremove reinstall build-dep",
    "aptitude": "install remove purge upgrade safe-upgrade full-upgrade",
    "yum": "install remove erase update upgrade reinstall groupinstall localinstall",
    "dnf": "install remove erase update upgrade reinstall group",
    "zypper": "install in remove rm update up dist-upgrade dup patch",
    "apk": "add del upgrade fix",
    "brew": "install uninstall remove rm upgrade reinstall tap untap link unlink pin update",
    "port": "install uninstall upgrade selfupdate",
    "snap": "install remove refresh revert",
    "flatpak": "install uninstall update",
    "choco": "install uninstall upgrade",
    "winget": "install uninstall upgrade",
    "scoop": "install uninstall update",
    "mix": "deps.get archive.install local.hex escript.install",
    "dotnet": "add tool workload",
    "rustup": "install toolchain component target update self default",
    "asdf": "install plugin uninstall",
    "mise": "install use plugins uninstall upgrade",
    "nix": "profile",
}
"""Per package manager, the subcommands that install, remove, update or publish."""

_INSTALL = "package_install network"
_DETECT = "package_paths registry_tokens runner_options"


def _install() -> Node:
    return sub("", operands="v", facts=_INSTALL, any_options=True)


SPECS: dict[str, Node] = {}
for _names, _words in INSTALLS.items():
    for _name in _names.split():
        _spec = _DEV.get(_name)
        if _spec is None:
            # No spec yet: only the installs are known; anything else is unvetted.
            _spec = program(_name, "-h --help --version", operands="-", scan=_DETECT)[_name]
        else:
            _spec.scan = (*_spec.scan, *(n for n in _DETECT.split() if n not in _spec.scan))
        for _word in _words.split():
            if _word not in _spec.subs:
                _spec.subs[_word] = _install()
                _spec.subs[_word].name = _word
        SPECS[_name] = _spec
del _names, _words, _name, _spec, _word

SPECS.update(
    {
        **program(
            "pacman yay paru",
            "-S|--sync!package_install -R|--remove!package_install "
            "-U|--upgrade!package_install -D|--database!package_install "
            "-Q|--query -s|--search= -i|--info -l|--list -e|--explicit -d|--deps "
            "-t|--unrequired -n|--native -m|--foreign -q|--quiet -k|--check -o|--owns=r "
            "-p|--file=r -y|--refresh -u|--sysupgrades -c|--changelog -g|--groups "
            "-V|--version -h|--help",
            operands="v",
            scan=_DETECT,
        ),
        **program(
            "dpkg",
            "-i|--install!package_install -r|--remove!package_install -P|--purge!package_install "
            "--unpack!package_install --configure!package_install -l|--list -L|--listfiles "
            "-s|--status -S|--search -p|--print-avail --get-selections -c|--contents "
            "-I|--info --version --help",
            operands="v",
            scan=_DETECT,
        ),
        **program(
            "nix-env",
            "-i|--install!package_install -e|--uninstall!package_install "
            "-u|--upgrade!package_install -q|--query -a|--available --installed "
            "-P|--attr-path -s|--status --description --json --version --help",
            operands="v",
            scan=_DETECT,
        ),
        # They download a package and run it, whatever the arguments.
        **program("easy_install uvx", "", operands="v", facts=_INSTALL, any_options=True),
    }
)
