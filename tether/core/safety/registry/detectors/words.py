"""What a single word is, when only its value can say: a disk device, a broad target, a secret name.

Data can say that `rm`'s operands are deleted; it cannot say that `~` is a
home directory or that `/dev/nvme0n1` is a disk. These small classifiers can,
and the detectors and the analyzer share them.
"""

from __future__ import annotations

import re

__all__ = ["broad_target", "is_block_device", "is_secret_name"]

_BLOCK_DEVICE = re.compile(
    r"^/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|r?disk\d|md\d|dm-\d|mapper/|"
    r"loop\d|sr\d|nbd\d|zram\d|mem$|kmem$|port$|fb\d)"
)


def is_block_device(path: str) -> bool:
    """A disk, partition or memory device: writing to it destroys data."""
    return bool(_BLOCK_DEVICE.match(path))


_SECRET_NAME = re.compile(
    r"(^|_)(KEY|KEYS|TOKEN|TOKENS|SECRET|SECRETS|PASSWORD|PASSWORDS|PASSWD|PASS|PASSPHRASE|"
    r"CREDENTIAL|CREDENTIALS|APIKEY|AUTH|PRIVATE|COOKIE|COOKIES|PAT|DSN|SESSION|PWD|"
    r"WEBHOOK|WEBHOOKS|CONNECTION_STRING|CONN_STR|SAS)(_|$)|"
    r"(PASSWORD|PASSWD|TOKEN|SECRET|WEBHOOK|APIKEY|_DSN$)|"
    r"^(DATABASE_URL|DB_URL|REDIS_URL|MONGO_URL|MONGODB_URI|MONGO_URI|AMQP_URL|RABBITMQ_URL|"
    r"POSTGRES_URL|POSTGRESQL_URL|PG_URL|MYSQL_URL|[A-Z_]*_DATABASE_URL|CELERY_BROKER_URL|"
    r"BROKER_URL|SENTRY_DSN|MYSQL_PWD|PGPASSFILE|VAULT_TOKEN|CI_JOB_JWT[A-Z_0-9]*|"
    r"ACTIONS_ID_TOKEN_REQUEST_[A-Z_]+|ACTIONS_RUNTIME_TOKEN)$",
    re.IGNORECASE,
)
_NOT_SECRET = frozenset({"PWD", "OLDPWD", "PASSWORD_STORE_DIR"})


def is_secret_name(name: str) -> bool:
    """Whether an environment variable name looks like it holds a secret.

    `{!x}` stands for an unknown variable read through `${!x}`: it may be any, a secret too.
    """
    if name.upper() in _NOT_SECRET:
        return False
    return name.startswith("{!") or bool(_SECRET_NAME.search(name))


def broad_target(text: str, dynamic: bool, glob: bool) -> bool:
    """A delete or permission target that is everything, a home, a root, or unknown."""
    if dynamic:
        return True
    path = text.rstrip("/") or "/"
    if path in {".", "..", "/", "~", "*", ".*", "./*", "~/*", "/*", "./.*"}:
        return True
    parts = [p for p in path.split("/") if p not in {"", "."}]
    if parts[:1] == ["proc"] and path.startswith("/"):
        return True  # `/proc/self/cwd`, `/proc/1/root`: the working directory, the root
    if path.startswith("~"):
        return len(parts) <= 1
    if path.startswith("/"):
        return len(parts) <= 2
    if not parts:
        return True
    depth = 0
    for part in parts:
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    if depth == 0:
        return True  # `src/..` is the working directory itself
    if glob and any(c in parts[0] for c in "*?["):
        return True
    return parts[-1] == ".git"
