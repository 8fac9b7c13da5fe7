"""TetherConfig and load_config: defaults, environment, .env, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tether.core.config import ENV_PREFIX, TetherConfig, load_config
from tether.exceptions import ConfigError, TetherError


def test_defaults(tmp_path: Path) -> None:
    config = load_config()

    assert config.approved_directories == (tmp_path.resolve(),)
    audit = config.audit_log_path
    assert audit.parent == tmp_path / "xdg-state" / "tether" / "audit"
    assert audit.name.startswith(f"{tmp_path.name}-") and audit.suffix == ".jsonl"
    assert config.policy_files == ("default",)
    assert config.approval_timeout_seconds == 300
    assert config.log_level == "INFO"
    assert config.log_dir is None
    assert config.storage_backend == "memory"
    assert config.storage_path == Path("tether.db")
    assert config.allowed_user_ids == ()
    assert config.rate_limit_rpm == 20
    assert config.rate_limit_burst == 5
    assert config.event_handler_timeout_seconds == 5.0
    assert config.plugins == ()
    assert config.telegram_bot_token is None


def test_env_prefix_is_tether() -> None:
    assert ENV_PREFIX == "TETHER_"


def test_config_is_frozen(config: TetherConfig) -> None:
    with pytest.raises(ValidationError):
        config.rate_limit_rpm = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        pytest.param(
            "TETHER_PLUGINS", "metrics, notify ,", "plugins", ("metrics", "notify"), id="plugins"
        ),
        pytest.param(
            "TETHER_ALLOWED_USER_IDS",
            "123, 456,789",
            "allowed_user_ids",
            (123, 456, 789),
            id="user-ids",
        ),
        pytest.param(
            "TETHER_POLICY_FILES",
            "strict,dev-tools",
            "policy_files",
            ("strict", "dev-tools"),
            id="policies",
        ),
        pytest.param("TETHER_PLUGINS", "solo", "plugins", ("solo",), id="single-item"),
        pytest.param("TETHER_ALLOWED_USER_IDS", "", "allowed_user_ids", (), id="empty-list"),
    ],
)
def test_lists_are_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    field: str,
    expected: tuple[object, ...],
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(load_config(), field) == expected


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        pytest.param(
            "TETHER_APPROVAL_TIMEOUT_SECONDS",
            "12.5",
            "approval_timeout_seconds",
            12.5,
            id="timeout",
        ),
        pytest.param("TETHER_LOG_LEVEL", "debug", "log_level", "DEBUG", id="level-any-case"),
        pytest.param("TETHER_STORAGE_BACKEND", "sqlite", "storage_backend", "sqlite", id="backend"),
        pytest.param("TETHER_RATE_LIMIT_RPM", "60", "rate_limit_rpm", 60, id="rpm"),
        pytest.param("TETHER_RATE_LIMIT_BURST", "10", "rate_limit_burst", 10, id="burst"),
        pytest.param(
            "TETHER_EVENT_HANDLER_TIMEOUT_SECONDS",
            "0.5",
            "event_handler_timeout_seconds",
            0.5,
            id="handler-timeout",
        ),
        pytest.param(
            "TETHER_AUDIT_LOG_PATH",
            "logs/a.jsonl",
            "audit_log_path",
            Path("logs/a.jsonl"),
            id="audit",
        ),
        pytest.param(
            "TETHER_STORAGE_PATH", "db/t.db", "storage_path", Path("db/t.db"), id="storage-path"
        ),
        pytest.param("TETHER_LOG_DIR", "logs", "log_dir", Path("logs"), id="log-dir"),
    ],
)
def test_scalars_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, field: str, expected: object
) -> None:
    monkeypatch.setenv(variable, value)
    assert getattr(load_config(), field) == expected


def test_bot_token_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_TELEGRAM_BOT_TOKEN", "123456:very-secret")
    config = load_config()
    assert config.telegram_bot_token is not None
    assert config.telegram_bot_token.get_secret_value() == "123456:very-secret"
    assert "very-secret" not in repr(config)


class TestApprovedDirectories:
    def test_a_single_directory_variable_is_accepted(
        self, monkeypatch: pytest.MonkeyPatch, project_dir: Path
    ) -> None:
        monkeypatch.setenv("TETHER_APPROVED_DIRECTORY", str(project_dir))
        assert load_config().approved_directories == (project_dir.resolve(),)

    def test_several_directories_are_comma_separated(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        (tmp_path / "one").mkdir()
        (tmp_path / "two").mkdir()
        monkeypatch.setenv("TETHER_APPROVED_DIRECTORIES", f"{tmp_path / 'one'}, {tmp_path / 'two'}")
        assert load_config().approved_directories == (tmp_path / "one", tmp_path / "two")

    def test_relative_paths_resolve_against_the_working_directory(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        (tmp_path / "work" / "sub").mkdir(parents=True)
        monkeypatch.setenv("TETHER_APPROVED_DIRECTORIES", "work/sub/..,work")
        (directory,) = load_config().approved_directories
        assert directory.is_absolute()
        assert directory == (tmp_path / "work").resolve()

    def test_home_is_expanded(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        (tmp_path / "home" / "code").mkdir(parents=True)
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        monkeypatch.setenv("TETHER_APPROVED_DIRECTORY", "~/code")
        assert load_config().approved_directories == ((tmp_path / "home" / "code").resolve(),)

    def test_symlinks_resolve_to_their_target(self, tmp_path: Path) -> None:
        target = tmp_path / "real"
        target.mkdir()
        link = tmp_path / "link"
        link.symlink_to(target, target_is_directory=True)
        assert TetherConfig(approved_directories=(link,)).approved_directories == (
            target.resolve(),
        )

    def test_code_may_pass_a_list_or_a_single_path(self, project_dir: Path) -> None:
        assert TetherConfig(approved_directories=[project_dir]).approved_directories == (
            project_dir,
        )
        assert TetherConfig(approved_directories=str(project_dir)).approved_directories == (
            project_dir,
        )

    def test_an_unprefixed_variable_is_ignored(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, project_dir: Path
    ) -> None:
        """Another program's APPROVED_DIRECTORIES must not widen Tether's sandbox."""
        monkeypatch.setenv("APPROVED_DIRECTORIES", str(project_dir))
        assert load_config().approved_directories == (tmp_path.resolve(),)

    @pytest.mark.parametrize(
        "variable",
        [
            pytest.param("TETHER_APPROVED_DIRECTORY", id="single"),
            pytest.param("TETHER_APPROVED_DIRECTORIES", id="list"),
        ],
    )
    def test_a_missing_directory_is_named(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
    ) -> None:
        missing = tmp_path / "nowhere"
        monkeypatch.setenv(variable, str(missing))
        with pytest.raises(ConfigError) as caught:
            load_config()
        message = str(caught.value)
        assert "TETHER_APPROVED_DIRECTORIES (or TETHER_APPROVED_DIRECTORY)" in message
        assert str(missing) in message
        assert "not an existing directory" in message

    def test_a_file_is_not_a_directory(
        self, monkeypatch: pytest.MonkeyPatch, project_dir: Path
    ) -> None:
        monkeypatch.setenv("TETHER_APPROVED_DIRECTORY", str(project_dir / "README.md"))
        with pytest.raises(ConfigError, match=r"README\.md.*not an existing directory"):
            load_config()


class TestDotEnv:
    def test_the_env_file_in_the_working_directory_is_read(
        self, tmp_path: Path, project_dir: Path
    ) -> None:
        (tmp_path / ".env").write_text(
            f"TETHER_APPROVED_DIRECTORY={project_dir}\n"
            "TETHER_PLUGINS=metrics,notify\n"
            "TETHER_APPROVAL_TIMEOUT_SECONDS=30\n"
            "UNRELATED_SETTING=ignored\n"
        )
        config = load_config()
        assert config.approved_directories == (project_dir.resolve(),)
        assert config.plugins == ("metrics", "notify")
        assert config.approval_timeout_seconds == 30

    def test_the_environment_wins_over_the_env_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("TETHER_RATE_LIMIT_RPM=30\nTETHER_LOG_LEVEL=DEBUG\n")
        monkeypatch.setenv("TETHER_RATE_LIMIT_RPM", "90")
        config = load_config()
        assert (config.rate_limit_rpm, config.log_level) == (90, "DEBUG")

    def test_a_bad_value_in_the_env_file_is_a_config_error(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("TETHER_STORAGE_BACKEND=redis\n")
        with pytest.raises(ConfigError, match="TETHER_STORAGE_BACKEND='redis'"):
            load_config()


def test_overrides_take_precedence_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_RATE_LIMIT_RPM", "90")
    assert load_config(rate_limit_rpm=7).rate_limit_rpm == 7


@pytest.mark.parametrize(
    ("variable", "value", "expectation"),
    [
        pytest.param("TETHER_STORAGE_BACKEND", "redis", "'memory' or 'sqlite'", id="backend"),
        pytest.param(
            "TETHER_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR, CRITICAL", id="log-level"
        ),
        pytest.param("TETHER_ALLOWED_USER_IDS", "alice", "decimal user ids", id="user-id-word"),
        pytest.param("TETHER_RATE_LIMIT_RPM", "fast", "valid integer", id="rpm-word"),
        pytest.param("TETHER_RATE_LIMIT_RPM", "0", "greater than or equal to 1", id="rpm-zero"),
        pytest.param("TETHER_RATE_LIMIT_BURST", "1.5", "valid integer", id="burst-fraction"),
        pytest.param(
            "TETHER_APPROVAL_TIMEOUT_SECONDS", "-1", "from 0.1 to 86400", id="negative-timeout"
        ),
        pytest.param("TETHER_APPROVAL_TIMEOUT_SECONDS", "soon", "valid number", id="timeout-word"),
        pytest.param(
            "TETHER_EVENT_HANDLER_TIMEOUT_SECONDS",
            "0",
            "from 0.01 to 300",
            id="zero-handler-timeout",
        ),
        pytest.param("TETHER_AUDIT_FSYNC", "maybe", "valid boolean", id="fsync"),
        pytest.param("TETHER_POLICY_FILES", " , ", "at least one policy", id="no-policy"),
        pytest.param(
            "TETHER_APPROVED_DIRECTORIES", ",", "at least one directory", id="no-directory"
        ),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expectation: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert variable in message
    assert f"={value!r} is invalid" in message
    assert expectation in message
    assert "\n" not in message
    assert isinstance(caught.value.__cause__, ValidationError)


def test_every_bad_value_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_STORAGE_BACKEND", "redis")
    monkeypatch.setenv("TETHER_RATE_LIMIT_RPM", "fast")
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert "TETHER_STORAGE_BACKEND" in str(caught.value)
    assert "TETHER_RATE_LIMIT_RPM" in str(caught.value)


def test_a_user_id_list_error_names_the_bad_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_ALLOWED_USER_IDS", "123,abc")
    with pytest.raises(ConfigError, match=r"TETHER_ALLOWED_USER_IDS='abc' is invalid"):
        load_config()


def test_config_error_is_a_tether_error() -> None:
    assert issubclass(ConfigError, TetherError)


def test_an_audit_log_path_given_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_AUDIT_LOG_PATH", "audit.jsonl")
    assert load_config().audit_log_path == Path("audit.jsonl")


def test_each_run_gets_its_own_audit_log_named_after_its_directory(tmp_path: Path) -> None:
    project = tmp_path / "my project!"
    project.mkdir()
    config = TetherConfig(approved_directories=(project,))
    assert config.audit_log_path.name.startswith("my_project-")
