"""build_engine(): the one place that constructs Tether's components and wires them."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tether.core.config import TetherConfig, load_config
from tether.core.safety import examples
from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer
from tether.core.safety.classify import Classifier
from tether.core.safety.layers import load_layers
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Policy, PolicyEngine
from tether.core.safety.sandbox import SandboxEnforcer
from tether.core.safety.shell import ShellParser
from tether.core.safety.tree_reads import TreeReads
from tether.exceptions import ConfigError
from tether.log import apply_deferred_logging

# Only the safety pipeline's parts are imported with this module: `tether check`
# and `tether policy` build the pipeline alone, and must not load the engine,
# the connectors, the plugins or the storage. Each builder below imports what
# it wires.
if TYPE_CHECKING:
    from tether.agents.base import BaseAgent
    from tether.connectors.base import BaseConnector
    from tether.core.engine import Engine
    from tether.core.events import EventBus
    from tether.core.safety.approvals import ApprovalCoordinator, ApprovalRequester
    from tether.core.safety.audit import AuditLogger
    from tether.core.safety.gate_hooks import GateReviewer
    from tether.core.safety.gatekeeper import ToolGatekeeper
    from tether.core.safety.registry.layered import ProgramLookup
    from tether.core.session import SessionManager
    from tether.plugins.base import TetherPlugin
    from tether.storage.base import SessionStore

__all__ = [
    "build_connector",
    "build_engine",
    "build_gatekeeper",
    "build_judging_pipeline",
    "build_safety_pipeline",
    "build_store",
    "check_policy_examples",
    "enabled_plugin_programs",
]


def build_engine(
    config: TetherConfig | None = None,
    *,
    plugins: Sequence[TetherPlugin] | None = None,
    agent: BaseAgent | None = None,
    connector: BaseConnector | None = None,
    environ: Mapping[str, str] | None = None,
) -> Engine:
    """Construct an engine and everything it needs, wired together.

    Args:
        config: the settings; read from the environment and `.env` when None.
        plugins: plugins to register after the built-in AuditPlugin, in order.
            The installed plugins named in `TETHER_PLUGINS` come after them.
        agent: the coding agent; Claude Code (`ClaudeCodeAgent`) when None.
        connector: where people talk to Tether; approvals are asked through it.
            None: only `engine.handle_message` (approvals then fail closed: deny).
        environ: where plugins' settings (`TETHER_PLUGIN_<NAME>_*`) are read;
            None: the process environment, then `.env`.

    Raises:
        ConfigError: the settings are invalid (Tether's or a plugin's), or
            `TETHER_PLUGINS` names a plugin that is not installed.
        PluginError: a plugin is malformed, two share a name, a hook does not
            match its specification, or a contribution is malformed or taken.
    """
    from tether.connectors.base import CommandMenu
    from tether.core.chat_requests import ChatRequests
    from tether.core.chat_services import ChatServices
    from tether.core.commands import SlashCommands
    from tether.core.engine import Engine
    from tether.core.events import EventBus
    from tether.core.safety.audit import AuditLogger
    from tether.core.session import SessionManager
    from tether.middleware.auth import AuthMiddleware
    from tether.middleware.base import MiddlewareChain
    from tether.middleware.rate_limit import RateLimitMiddleware
    from tether.plugins.builtin.audit_plugin import AuditPlugin
    from tether.plugins.contribute import (
        collect_commands,
        collect_gate_hooks,
        collect_programs,
        collect_settings,
    )
    from tether.plugins.registry import PluginRegistry, PluginSource, load_entry_point_plugins

    # Plugins and the agent SDK may log through structlog itself: it is set up first.
    apply_deferred_logging()
    config = config if config is not None else load_config()
    event_bus = EventBus(handler_timeout=config.event_handler_timeout_seconds)
    audit_logger = AuditLogger(config.audit_log_path, fsync=config.audit_fsync)

    # Everything the settings name is checked (policies, storage) before any
    # plugin's code runs: a plugin factory must not run on bad configuration.
    pipeline = build_safety_pipeline(config)
    store = build_store(config)
    sessions = SessionManager(store, default_directory=config.approved_directories[0])
    if connector is not None:
        _attach_web(connector, audit_logger=audit_logger, sessions=sessions, event_bus=event_bus)

    registry = PluginRegistry()
    registry.register(AuditPlugin(audit_logger), source=PluginSource.BUILTIN)
    for plugin in plugins or ():
        registry.register(plugin, source=PluginSource.CODE)
    for plugin in load_entry_point_plugins(config.plugins):
        registry.register(plugin, source=PluginSource.ENTRY_POINT)

    # What the plugins contribute through their hooks (tether/plugins/contribute.py).
    collect_settings(
        registry, environ=environ, env_file=None if environ is not None else Path(".env")
    )
    commands = SlashCommands()
    collect_commands(registry, commands, timeout=config.event_handler_timeout_seconds)
    if isinstance(connector, CommandMenu):
        # The menus show what the engine answers: the plugins' commands too.
        connector.set_command_menu([(spec.name, spec.description) for spec in commands.specs])
    gate_hooks = collect_gate_hooks(registry, timeout=config.event_handler_timeout_seconds)
    programs = collect_programs(registry)
    if programs is not None:
        # The policy files' examples were checked above, against Tether's own knowledge.
        pipeline = build_safety_pipeline(config, check_examples=False, programs=programs)
    approvals, gatekeeper = build_gatekeeper(
        config,
        event_bus=event_bus,
        audit_logger=audit_logger,
        approval_requester=connector,
        pipeline=pipeline,
        reviewer=gate_hooks if gate_hooks.active else None,
    )
    middleware = MiddlewareChain(
        # Auth first: a stranger spends no rate-limit tokens.
        (
            AuthMiddleware(config.allowed_user_ids, audit_logger),
            RateLimitMiddleware(config.rate_limit_rpm, config.rate_limit_burst, audit_logger),
        )
    )
    agent = agent if agent is not None else _claude_code_agent(config)
    requests = ChatRequests(approvals, agent)
    services = ChatServices(
        sessions=sessions,
        gatekeeper=gatekeeper,
        audit_logger=audit_logger,
        plugins=registry,
        event_bus=event_bus,
        requests=requests,
    )
    return Engine(
        config=config,
        event_bus=event_bus,
        plugins=registry,
        audit_logger=audit_logger,
        gatekeeper=gatekeeper,
        approvals=approvals,
        store=store,
        sessions=sessions,
        middleware=middleware,
        commands=commands,
        services=services,
        requests=requests,
        agent=agent,
        connector=connector,
    )


def _claude_code_agent(config: TetherConfig) -> BaseAgent:
    # The SDK is the slowest import and nothing before the first prompt needs it:
    # it is checked for now (one clear line when missing) and imported on first use.
    from tether.agents.claude_lazy import LazyClaudeCodeAgent

    return LazyClaudeCodeAgent(config)


def build_store(config: TetherConfig) -> SessionStore:
    """The session store `TETHER_STORAGE_BACKEND` names."""
    if config.storage_backend == "sqlite":
        from tether.storage.sqlite import SqliteSessionStore

        return SqliteSessionStore(config.storage_path)
    from tether.storage.memory import MemorySessionStore

    return MemorySessionStore()


def build_connector(config: TetherConfig, *, terminal: bool = True) -> BaseConnector:
    """Telegram when `TETHER_TELEGRAM_BOT_TOKEN` is set, else the terminal REPL;
    with `TETHER_WEB_ENABLED`, the web connector beside it (or alone when
    `terminal` is False and there is no bot token).

    Raises:
        ConfigError: the web settings are unsafe or incomplete (see `WebSettings`).
    """
    from tether.connectors.cli import CliConnector
    from tether.core.commands import BUILTIN_COMMANDS

    primary = _primary_connector(config) if terminal or config.telegram_bot_token else None
    if not config.web_enabled:
        return (
            primary
            if primary is not None
            else CliConnector(batch_seconds=config.approval_batch_seconds)
        )
    # Imported on demand: only a run with the web connector loads the web stack.
    from tether.connectors.group import ConnectorGroup
    from tether.connectors.web import WebConnector, WebSettings

    web = WebConnector(
        WebSettings.from_config(config),
        commands=[(spec.name, spec.description) for spec in BUILTIN_COMMANDS],
    )
    members = [web] if primary is None else [primary, web]
    # The terminal and a logged-in browser are the same person: the local owner.
    return ConnectorGroup(members, local=("cli", "web"))


def _attach_web(
    connector: BaseConnector,
    *,
    audit_logger: AuditLogger,
    sessions: SessionManager,
    event_bus: EventBus,
) -> None:
    # A web connector exists only if its module was loaded: nothing to import otherwise.
    web = sys.modules.get("tether.connectors.web.connector")
    if web is None:
        return
    for member in getattr(connector, "members", (connector,)):
        if isinstance(member, web.WebConnector):
            member.attach_services(
                audit_logger=audit_logger, sessions=sessions, event_bus=event_bus
            )


def _primary_connector(config: TetherConfig) -> BaseConnector:
    from tether.connectors.cli import CliConnector
    from tether.core.commands import BUILTIN_COMMANDS

    if config.telegram_bot_token is not None:
        # Imported on demand: `tether check` and the REPL need not load Telegram.
        from tether.connectors.telegram import TelegramConnector

        return TelegramConnector(
            config.telegram_bot_token.get_secret_value(),
            throttle_seconds=config.streaming_throttle_seconds,
            commands=[(spec.name, spec.description) for spec in BUILTIN_COMMANDS],
            approval_batch_seconds=config.approval_batch_seconds,
        )
    return CliConnector(batch_seconds=config.approval_batch_seconds)


def build_safety_pipeline(
    config: TetherConfig, *, check_examples: bool = True, programs: ProgramLookup | None = None
) -> SafetyPipeline:
    """The input check, sandbox and policy that every tool call passes.

    Reads the policies `TETHER_POLICY_FILES` names (presets or YAML paths),
    the user's policy file and the approved directories, and runs every rule's
    examples (`check_examples=False` skips that, for `tether policy test`,
    which reports them itself). `programs` layers plugins' program
    knowledge over the registry, with the `plugins` policy that allows what
    they describe as read-only. The gatekeeper wraps it; `tether check`
    builds it through `build_judging_pipeline`.

    Raises:
        ConfigError: a policy preset is unknown, a policy file is malformed or
            relaxes too broadly, or an example fails (the message names the
            file and line).
    """
    parser = ShellParser()
    paths = PathAnalyzer()
    classifier = Classifier(parser, CommandAnalyzer(parser, paths, programs), paths)
    layered = load_layers(config.policy_files, config.user_policy_file)
    base = layered.base
    if programs is not None:
        # Imported here: only plugins' program knowledge needs it (and its model, whose
        # schema is a few milliseconds of every start-up without plugins).
        from tether.core.safety.contributions import contributed_policy

        contributed = contributed_policy(programs)
        if contributed is not None:
            base = (*base, contributed)
    policy = PolicyEngine(base, classifier, layers=layered.layers)
    sandbox = SandboxEnforcer(config.approved_directories, protected=_own_files(config))
    trees = TreeReads(
        paths.credential_reason,
        max_entries=config.tree_read_max_entries,
        max_seconds=config.tree_read_max_seconds,
    )
    pipeline = SafetyPipeline(policy, sandbox, paths, trees)
    if check_examples:
        results = check_policy_examples(pipeline)
        if not all(result.passed for result in results):
            raise ConfigError(
                examples.describe_failures(results) + "; fix the rule or its examples "
                "(`tether policy test` lists them all)"
            )
    return pipeline


def build_judging_pipeline(
    config: TetherConfig, *, environ: Mapping[str, str] | None = None
) -> SafetyPipeline:
    """The pipeline the daemon judges with, built without an agent: for `tether check`.

    As in `build_engine`, the policy files' examples are checked against
    Tether's own knowledge, then the enabled plugins' program knowledge
    (`TETHER_PLUGINS`, their `programs` hook) is layered on top, so a
    command is decided here as the running daemon decides it. A plugin's
    async `gate` hook is not consulted (it needs a started plugin); it can
    only tighten a decision.

    Raises:
        ConfigError: as `build_safety_pipeline`, or a plugin named is not
            installed or one of its settings is invalid.
        PluginError: a plugin failed to load or contributed a malformed spec.
    """
    pipeline = build_safety_pipeline(config)
    programs = enabled_plugin_programs(config, environ=environ)
    if programs is None:
        return pipeline
    return build_safety_pipeline(config, check_examples=False, programs=programs)


def enabled_plugin_programs(
    config: TetherConfig, *, environ: Mapping[str, str] | None = None
) -> ProgramLookup | None:
    """What the enabled installed plugins know about programs; None when none contribute.

    The plugins are loaded and their settings read exactly as the daemon does
    it, but none is initialised or started: only the `programs` hook runs, and
    a hook that fails is contained and contributes nothing (Tether then asks).
    """
    if not config.plugins:
        # Nothing enabled: no entry point is read and no plugin module imported.
        return None
    from tether.plugins.contribute import collect_programs, collect_settings
    from tether.plugins.registry import PluginRegistry, PluginSource, load_entry_point_plugins

    # A plugin may log through structlog itself: it is set up before one loads.
    apply_deferred_logging()
    registry = PluginRegistry()
    for plugin in load_entry_point_plugins(config.plugins):
        registry.register(plugin, source=PluginSource.ENTRY_POINT)
    collect_settings(
        registry, environ=environ, env_file=None if environ is not None else Path(".env")
    )
    return collect_programs(registry)


def check_policy_examples(pipeline: SafetyPipeline) -> list[examples.ExampleResult]:
    """Run every rule's examples against the layers up to its file.

    Examples say what a policy decides, not what is on this disk: they run in
    an empty scratch directory approved for the purpose, so the project's files
    and Tether's own (protected) files never change their outcome.
    """
    engine = pipeline.policy
    layers = engine.layers
    with tempfile.TemporaryDirectory(prefix="tether-examples-") as scratch:
        sandbox = SandboxEnforcer((Path(scratch),))
        stages: list[tuple[tuple[Policy, ...], SafetyPipeline]] = []
        for count in range(len(layers) + 1):
            files = engine.policies if count == 0 else (layers[count - 1],)
            # The last stage holds every layer: it is the pipeline's own engine
            # (whose classifications depend on the call alone), not another one built.
            partial = (
                engine
                if count == len(layers)
                else PolicyEngine(engine.policies, engine.classifier, layers=layers[:count])
            )
            stages.append((files, SafetyPipeline(partial, sandbox, pipeline.paths)))
        return examples.check_examples(stages, scratch)


def _own_files(config: TetherConfig) -> tuple[Path, ...]:
    """What Tether writes, which often sits inside the project: the agent must not touch it."""
    own = [config.audit_log_path]
    if config.storage_backend == "sqlite":
        store = config.storage_path
        own += [store, *(store.with_name(store.name + suffix) for suffix in _SQLITE_SIDE_FILES)]
    if config.log_dir is not None:
        own.append(config.log_dir)
    own += [Path(name) for name in config.policy_files if name.endswith((".yaml", ".yml"))]
    own += [config.user_policy_file, config.learned_rules_path]
    # The web page's access token: an agent that read it could hand the page to anyone.
    from tether.connectors.web.token import TOKEN_FILE, default_state_dir

    own.append((config.web_state_dir or default_state_dir()) / TOKEN_FILE)
    return tuple(own)


_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def build_gatekeeper(
    config: TetherConfig,
    *,
    event_bus: EventBus,
    audit_logger: AuditLogger,
    approval_requester: ApprovalRequester | None = None,
    pipeline: SafetyPipeline | None = None,
    reviewer: GateReviewer | None = None,
) -> tuple[ApprovalCoordinator, ToolGatekeeper]:
    """The approval coordinator and the gatekeeper, wired to the bus and the audit log.

    `approval_requester` is the connector that asks people (None: every call
    that needs approval is denied); `pipeline` the safety pipeline (None:
    `build_safety_pipeline(config)`); `reviewer` runs the plugins' gate hooks
    (None: there are none). The approval timeout is
    `TETHER_APPROVAL_TIMEOUT_SECONDS` when set, else the policy's
    `settings.approval_timeout_seconds`, else 300 s.

    Raises:
        ConfigError: see `build_safety_pipeline`; or the learned-rules file is
            malformed (the message names the file and line).
    """
    from tether.core.safety.approvals import ApprovalCoordinator
    from tether.core.safety.gatekeeper import ToolGatekeeper
    from tether.core.safety.learned import LearnedRules, LearnedRuleStore

    pipeline = pipeline if pipeline is not None else build_safety_pipeline(config)
    timeout = config.approval_timeout_seconds
    from_policy = pipeline.policy.approval_timeout_seconds
    if "approval_timeout_seconds" not in config.model_fields_set and from_policy is not None:
        timeout = from_policy
    approvals = ApprovalCoordinator(
        event_bus=event_bus,
        audit_logger=audit_logger,
        requester=approval_requester,
        timeout_seconds=timeout,
    )
    learned = LearnedRules(LearnedRuleStore(config.learned_rules_path))
    gatekeeper = ToolGatekeeper(
        pipeline, approvals, event_bus, audit_logger, learned, reviewer=reviewer
    )
    return approvals, gatekeeper
