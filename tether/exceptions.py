"""Every error Tether raises on purpose derives from `TetherError`.

The tree::

    TetherError
    ├── ConfigError             a setting, policy file or plugin name is wrong
    ├── PluginError             a plugin is malformed, or failed to initialize or start
    ├── AgentError              the coding agent could not run or answer
    ├── SessionError            a session could not be found, created or updated
    ├── StorageError            the session store failed
    ├── SafetyError             the safety pipeline could not decide or record
    │   ├── AuditError          an audit entry could not be written
    │   └── ApprovalTimeoutError  nobody answered an approval in time (the call is denied)
    ├── InteractionTimeoutError a person did not answer a question in time
    └── ConnectorError          a chat platform refused or could not be reached

Messages name the thing that was wrong, the bad value and the way out, so the
`tether` command can print them as they are, without a traceback.
"""

__all__ = [
    "AgentError",
    "ApprovalTimeoutError",
    "AuditError",
    "ConfigError",
    "ConnectorError",
    "InteractionTimeoutError",
    "PluginError",
    "SafetyError",
    "SessionError",
    "StorageError",
    "TetherError",
]


class TetherError(Exception):
    """Base of every error Tether raises on purpose."""


class ConfigError(TetherError):
    """A setting, policy file or plugin name is wrong; the message says which and how to fix it."""


class PluginError(TetherError):
    """A plugin is malformed, its name is taken, or it failed in initialize or start."""


class AgentError(TetherError):
    """The coding agent could not be started, or failed while answering."""


class SessionError(TetherError):
    """A session could not be found, created or updated."""


class StorageError(TetherError):
    """The session store could not read or write."""


class SafetyError(TetherError):
    """The safety pipeline could not decide or could not record its decision."""


class AuditError(SafetyError):
    """An audit entry could not be written (disk full, permissions, closed logger)."""


class ApprovalTimeoutError(SafetyError):
    """No one answered an approval request in time; the tool call is denied."""


class InteractionTimeoutError(TetherError):
    """A person did not answer a question in time."""


class ConnectorError(TetherError):
    """A chat platform refused a request or could not be reached."""
