"""Package managers: which subcommands install, remove or publish packages."""

from __future__ import annotations

import re

from tether.core.safety.programs.base import Findings, HandlerTable, names

__all__ = ["HANDLERS", "INSTALLS", "package_manager"]

HANDLERS = HandlerTable()

INSTALLS: dict[str, frozenset[str]] = {
    "pip": names("install uninstall download wheel"),
    "pip3": names("install uninstall download wheel"),
    "pipx": names("install uninstall upgrade upgrade-all inject reinstall run"),
    "uv": names("add remove sync lock"),
    "poetry": names("add remove install update lock publish self"),
    "pdm": names("add remove install update sync lock publish"),
    "conda": names("install remove uninstall update upgrade create env"),
    "mamba": names("install remove uninstall update upgrade create env"),
    "micromamba": names("install remove uninstall update create env"),
    "npm": names(
        "install i ci add uninstall remove rm un r unlink update up upgrade link ln publish "
        "unpublish dedupe prune rebuild exec x init create"
    ),
    "pnpm": names(
        "install i add remove rm un uninstall update up upgrade link publish dlx create import "
        "rebuild prune"
    ),
    "yarn": names("install add remove upgrade up link publish dlx create global"),
    "bun": names("install i add a remove rm update link publish create x"),
    "deno": names("install add remove uninstall"),
    "cargo": names("install uninstall add remove rm publish"),
    "go": names("install get"),
    "gem": names("install uninstall update push"),
    "bundle": names("install add update remove"),
    "composer": names("require install update remove global"),
    "apt": names("install remove purge upgrade dist-upgrade full-upgrade autoremove reinstall"),
    "apt-get": names("install remove purge upgrade dist-upgrade autoremove reinstall build-dep"),
    "aptitude": names("install remove purge upgrade safe-upgrade full-upgrade"),
    "yum": names("install remove erase update upgrade reinstall groupinstall localinstall"),
    "dnf": names("install remove erase update upgrade reinstall group"),
    "zypper": names("install in remove rm update up dist-upgrade dup patch"),
    "apk": names("add del upgrade fix"),
    "brew": names("install uninstall remove rm upgrade reinstall tap untap link unlink pin update"),
    "port": names("install uninstall upgrade selfupdate"),
    "snap": names("install remove refresh revert"),
    "flatpak": names("install uninstall update"),
    "choco": names("install uninstall upgrade"),
    "winget": names("install uninstall upgrade"),
    "scoop": names("install uninstall update"),
    "mix": names("deps.get archive.install local.hex escript.install"),
    "dotnet": names("add tool workload"),
    "rustup": names("install toolchain component target update self default"),
    "asdf": names("install plugin uninstall"),
    "mise": names("install use plugins uninstall upgrade"),
    "nix": names("profile"),
}
"""Per package manager, the subcommands that install, remove, update or publish."""

_ALWAYS = names("easy_install pnpx uvx")
_PACMAN = re.compile(r"^-[SRU]")
_DPKG = names("-i --install -r --remove -P --purge --unpack --configure")
_NIX_ENV = names("-i --install -e --uninstall -u --upgrade")
_NPM_RUNNER_OPTIONS = names(
    "--script-shell --shell --node-options --userconfig --globalconfig --npmrc --config "
    "--node-arg --bun --require --preload --conditions"
)
_AUTH_KEY = re.compile(r"auth|token|password|_pass", re.IGNORECASE)
_NETWORKED = names("update outdated search view info audit fetch download publish")


def package_manager(f: Findings) -> None:
    """Mark installs and other package changes; name the requirement files read."""
    c = f.command
    operands = [a for a in c.args if not a.startswith("-")]
    f.subcommand = tuple(operands[:3])
    sub = operands[0] if operands else ""
    second = operands[1] if len(operands) > 1 else ""
    f.handled_paths = True
    if c.program in _ALWAYS:
        f.fact("package_install", f"{c.text} (downloads and runs a package)")
    elif (
        (c.program == "pacman" and any(_PACMAN.match(a) for a in c.args))
        or (c.program == "dpkg" and set(c.args) & _DPKG)
        or (c.program == "nix-env" and set(c.args) & _NIX_ENV)
    ):
        f.fact("package_install")
    elif c.program == "uv" and sub in {"pip", "tool"}:
        if second in {"install", "uninstall", "sync", "run", "upgrade"}:
            f.fact("package_install", f"{c.text} (uv {sub} {second})")
    elif c.program in {"npm", "pnpm", "yarn", "bun"} and (
        sub == "token" or (sub == "config" and any(_AUTH_KEY.search(o) for o in operands[1:]))
    ):
        f.fact("secrets_read", f"{c.text} (prints registry tokens)")
    elif c.program == "yarn" and not operands:
        f.fact("package_install", f"{c.text} (installs dependencies)")
    elif sub in INSTALLS.get(c.program, frozenset()):
        f.fact("package_install", f"{c.text} ({c.program} {sub})")
    if sub in _NETWORKED or f.has("package_install"):
        f.fact("network")
    if c.program in {"npm", "pnpm", "yarn", "bun"}:
        own = c.args[: c.args.index("--")] if "--" in c.args else c.args
        if any(a.partition("=")[0] in _NPM_RUNNER_OPTIONS for a in own):
            # `npm test --script-shell=./x`: the script runs through a program of choice.
            f.fact("code_execution", f"{c.text} (chooses the program scripts run with)")
    for index, arg in enumerate(c.args):
        if arg in {"-r", "--requirement", "-c", "--constraint", "-e", "--editable"}:
            f.arg(index + 1, "read")
        elif arg in {"--target", "-t", "--prefix", "--root"}:
            f.arg(index + 1, "write")


for _program in INSTALLS.keys() - {"bun", "deno"} | _ALWAYS | {"pacman", "dpkg", "nix-env"}:
    HANDLERS[_program] = package_manager
del _program
