"""Policy layers: which files form the base and which sit above it, and what they may relax.

Layers, bottom to top (docs/policies.md):

1. the built-in floor (`floor.py`), which nothing lowers;
2. the base: the files `TETHER_POLICY_FILES` names, combined strictest-wins;
3. files that `extends:` a preset or another file: their base is loaded
   underneath them, and they sit above it;
4. the user's file (`policy.yaml` in Tether's config directory);
5. learned rules and per-chat modes (applied by the gate, not here).

A layer above the base may tighten anything and may relax an ask to allow, but
only with a specific rule: a program (and subcommand), a command glob, or a
path glob with a literal part. `relaxing_problem` says why a rule is too broad;
loading refuses such a file with its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tether.core.safety.policy import Action, Policy, PolicyRule
from tether.core.safety.policy_files import PRESETS, load_policy
from tether.exceptions import ConfigError

__all__ = ["LayeredPolicies", "load_layers", "relaxing_problem"]

_MAX_CHAIN = 8

# Programs that run whatever their arguments say: allowing them "with any
# arguments" is allowing all of Bash.
_RUNS_ANYTHING = frozenset(
    {
        "sh", "bash", "zsh", "dash", "ksh", "fish", "csh", "tcsh", "busybox",
        "env", "sudo", "doas", "su", "xargs", "exec", "eval", "command", "builtin",
        "nohup", "timeout", "nice", "time", "watch", "parallel", "ssh",
        "python", "python3", "python2", "node", "deno", "bun", "perl", "ruby", "php",
        "lua", "tclsh", "osascript", "pwsh", "powershell", "npx", "bunx", "pnpx", "uvx",
    }
)  # fmt: skip


class LayeredPolicies(BaseModel):
    """The base files and the layers above them, in order."""

    model_config = ConfigDict(frozen=True)

    base: tuple[Policy, ...]
    layers: tuple[Policy, ...] = ()


def load_layers(sources: Sequence[str], user_file: Path | None = None) -> LayeredPolicies:
    """Load `TETHER_POLICY_FILES` (`sources`) and the user's file into layers.

    A file without `extends:` joins the base; a file with it becomes a layer
    above its base, which is loaded into the base. The user's file (when it
    exists) is the top layer.

    Raises:
        ConfigError: a file is malformed, an `extends:` is missing or circular,
            or a layer relaxes too broadly (the message names file and line).
    """
    if not sources:
        raise ConfigError("no policy given; use a preset (default, strict, ...) or a YAML path")
    base: list[Policy] = []
    layers: list[Policy] = []
    for source in sources:
        policy = load_policy(source)
        _place(policy, "extends", base, layers)
    if user_file is not None and user_file.expanduser().is_file():
        _place(load_policy(str(user_file.expanduser())), "user", base, layers)
    return LayeredPolicies(base=tuple(base), layers=tuple(layers))


def _place(policy: Policy, kind: str, base: list[Policy], layers: list[Policy]) -> None:
    if policy.extends is None and kind != "user":
        base.append(policy)
        return
    chain = _chain(policy)
    above = chain
    if len(chain) > 1:
        # The chain ends at a file without `extends:`: that file is the base.
        root, above = chain[0], chain[1:]
        if not any(p.source == root.source for p in base):
            base.append(root)
    for index, layer in enumerate(above):
        _check_relaxing(layer)
        marked = layer.model_copy(update={"layer": kind if index == len(above) - 1 else "extends"})
        if not any(p.source == marked.source for p in layers):
            layers.append(marked)


def _chain(policy: Policy) -> list[Policy]:
    """The policy and what it extends, base first."""
    chain = [policy]
    seen = {_key(policy.source)}
    current = policy
    while current.extends is not None:
        target = _resolve(current.extends, current.source)
        if _key(target) in seen:
            raise ConfigError(
                f"{current.source}: `extends: {current.extends}` makes a cycle "
                f"({' -> '.join(p.source for p in reversed(chain))} -> {target}); "
                "a chain of `extends:` must end at a preset or a file without it"
            )
        if len(chain) >= _MAX_CHAIN:
            raise ConfigError(
                f"{current.source}: more than {_MAX_CHAIN} files extend each other; "
                "shorten the chain"
            )
        try:
            parent = load_policy(target)
        except ConfigError as error:
            raise ConfigError(
                f"{current.source}: `extends: {current.extends}` cannot be loaded: {error}"
            ) from error
        seen.add(_key(parent.source))
        chain.insert(0, parent)
        current = parent
    return chain


def _resolve(target: str, source: str) -> str:
    """A preset name as is; a relative path against the extending file's directory."""
    target = target.strip()
    if target in PRESETS or ("/" not in target and not target.endswith((".yaml", ".yml"))):
        return target
    path = Path(target).expanduser()
    if not path.is_absolute() and source not in PRESETS:
        path = Path(source).expanduser().parent / path
    return str(path)


def _key(source: str) -> str:
    if source in PRESETS:
        return source
    try:
        return str(Path(source).expanduser().resolve())
    except (OSError, RuntimeError):
        return source


def _check_relaxing(policy: Policy) -> None:
    for rule in policy.rules:
        problem = relaxing_problem(rule)
        if problem is not None:
            raise ConfigError(
                f"{policy.source}:{rule.line or 1}: rule {rule.name!r} relaxes too broadly: "
                f"{problem}"
            )


def relaxing_problem(rule: PolicyRule) -> str | None:
    """Why an allow rule in a layer above the base is too broad to relax asks, or None.

    A relaxing rule names what it allows: a program (not a wildcard, not a
    program that runs whatever its arguments say unless a subcommand or a
    command glob pins them), a command glob, or a path glob with a literal part.
    """
    if rule.action is not Action.ALLOW:
        return None
    fix = (
        "name a program and subcommand (programs: [docker], subcommands: [compose up]), "
        "a command (commands: ['npm run *']) or a path glob (path_patterns: ['src/**'])"
    )
    if rule.risk_facts or rule.min_risk_level is not None:
        return f"it allows by risk fact or level, which covers many commands; {fix}"
    programs = [p.lower() for p in rule.programs]
    if any(any(c in p for c in "*?[") for p in programs):
        return f"a program wildcard ({', '.join(programs)}) matches too many programs; {fix}"
    pinned = bool(rule.subcommands) or bool(rule.commands)
    runners = sorted(set(programs) & _RUNS_ANYTHING)
    if runners and not pinned:
        return f"{runners[0]} runs whatever its arguments say; {fix}"
    for pattern in rule.commands:
        words = pattern.split()
        if words[0].lower() in _RUNS_ANYTHING and all(w == "*" for w in words[1:2]):
            return f"{pattern!r} lets {words[0]} run anything; {fix}"
    paths = [p for p in rule.path_patterns if _literal_part(p)]
    if programs or rule.commands:
        return None
    if paths and rule.tools and "Bash" not in rule.tools and "*" not in rule.tools:
        return None
    if paths:
        return (
            "a path glob alone would allow any command touching those paths; name the file "
            "tools it is for (tools: [Edit, Write])"
        )
    if rule.path_patterns:
        return f"the path glob ({', '.join(rule.path_patterns)}) has no literal part; {fix}"
    if rule.command_patterns:
        return f"a regex alone (command_patterns) can match any command; {fix}"
    return f"it matches whole tools ({', '.join(rule.tools)}); {fix}"


def _literal_part(pattern: str) -> bool:
    parts = [p for p in pattern.strip("/").split("/") if p and p != "~"]
    return any(not any(c in part for c in "*?[") for part in parts)
