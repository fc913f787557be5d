from __future__ import annotations

import io
import logging
import os
import pickle
from collections.abc import Callable

import pytest

from workbench.config import RESOURCES, Settings, env_var
from workbench.errors import ConfigError
from workbench.logging_setup import configure_logging, unconfigure_logging
from workbench.validators import PositiveInt

SECRET = "hunter2"
DSN = f"postgresql://app:{SECRET}@db.example:5432/workbench"
KV_DSN = f"host=db.example dbname=workbench user=app password={SECRET}"
REDIS = f"redis://:{SECRET}@cache.example:6379/0"


@pytest.fixture(autouse=True)
def _no_workbench_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide any WORKBENCH_* variables of the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("WORKBENCH_"):
            monkeypatch.delenv(name)


class TestDefaults:
    """Settings() defaults and the field table."""

    def test_defaults_match_the_documented_values(self) -> None:
        """A bare Settings() carries the documented defaults."""
        s = Settings()
        assert s.postgres_dsn is None
        assert s.redis_url is None
        assert s.base_url == "https://jsonplaceholder.typicode.com"
        assert s.resources == RESOURCES
        assert (s.mode, s.page_size, s.concurrency, s.max_pages) == ("sync", 100, 16, None)
        assert (s.timeout_s, s.retry_attempts, s.cache_ttl_s) == (10.0, 5, 300)
        assert (s.use_cache, s.batch_rows, s.log_format, s.log_level) == (
            True,
            5000,
            "text",
            "INFO",
        )

    def test_workers_default_follows_cpu_count(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The workers default is os.cpu_count(), or 2 when that is unknown."""
        monkeypatch.setattr(os, "cpu_count", lambda: 6)
        assert Settings().workers == 6
        monkeypatch.setattr(os, "cpu_count", lambda: None)
        assert Settings().workers == 2

    def test_fields_lists_every_descriptor_in_order(self) -> None:
        """fields() maps each setting name to its descriptor, in declaration order."""
        fields = Settings.fields()
        assert list(fields)[:3] == ["postgres_dsn", "redis_url", "base_url"]
        assert fields["page_size"] is Settings.page_size
        assert isinstance(Settings.page_size, PositiveInt)

    def test_env_var_name(self) -> None:
        """Each field is set by WORKBENCH_ plus its upper-cased name."""
        assert env_var("postgres_dsn") == "WORKBENCH_POSTGRES_DSN"


class TestLayering:
    """Defaults, then WORKBENCH_* variables, then arguments."""

    def test_constructor_ignores_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Settings(**kwargs) uses defaults and arguments only, never WORKBENCH_* variables."""
        monkeypatch.setenv("WORKBENCH_PAGE_SIZE", "7")
        assert Settings().page_size == 100
        assert Settings(page_size=9).page_size == 9

    def test_env_beats_default(self) -> None:
        """A WORKBENCH_* variable replaces the default, parsed by the field's descriptor."""
        s = Settings.from_env(
            {
                "WORKBENCH_PAGE_SIZE": "7",
                "WORKBENCH_POSTGRES_DSN": DSN,
                "WORKBENCH_RESOURCES": "posts,comments",
                "WORKBENCH_USE_CACHE": "no",
            }
        )
        assert (s.page_size, s.postgres_dsn, s.use_cache) == (7, DSN, False)
        assert s.resources == ("posts", "comments")

    def test_argument_beats_env(self) -> None:
        """An explicit override wins over the environment variable."""
        s = Settings.from_env({"WORKBENCH_PAGE_SIZE": "7", "WORKBENCH_MODE": "async"}, page_size=9)
        assert (s.page_size, s.mode) == (9, "async")

    def test_processor_is_records_unless_pandas_is_chosen(self) -> None:
        """The processor is ``records`` by default, ``pandas`` from WORKBENCH_PROCESSOR."""
        assert Settings().processor == "records"
        assert Settings.from_env({"WORKBENCH_PROCESSOR": "Pandas"}).processor == "pandas"
        with pytest.raises(ConfigError, match="one of records, pandas"):
            Settings(processor="numpy")

    def test_none_argument_means_not_given(self) -> None:
        """An override of None falls through to the environment, then to the default."""
        s = Settings.from_env({"WORKBENCH_PAGE_SIZE": "7"}, page_size=None, concurrency=None)
        assert (s.page_size, s.concurrency) == (7, 16)

    def test_empty_env_var_counts_as_unset(self) -> None:
        """WORKBENCH_X='' or whitespace leaves the default in place."""
        assert Settings.from_env({"WORKBENCH_PAGE_SIZE": "  "}).page_size == 100

    def test_reads_os_environ_by_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """from_env() with no mapping reads the process environment."""
        monkeypatch.setenv("WORKBENCH_REDIS_URL", REDIS)
        assert Settings.from_env().redis_url == REDIS

    @pytest.mark.parametrize("build", [Settings, Settings.from_env])
    def test_unknown_keyword_is_a_config_error(self, build: Callable[..., Settings]) -> None:
        """A misspelt setting is refused by name, with the known settings listed."""
        with pytest.raises(ConfigError, match=r"unknown setting.*page_sise.*page_size"):
            build(page_sise=3)


class TestErrors:
    """One-line ConfigError messages for bad values."""

    def test_env_error_names_setting_value_expectation_and_variable(self) -> None:
        """A bad env value reports the field, the value, what was expected and the variable."""
        with pytest.raises(ConfigError) as info:
            Settings.from_env({"WORKBENCH_PAGE_SIZE": "-3"})
        assert str(info.value) == (
            "page_size: expected a positive integer <= 10000, got '-3' (from WORKBENCH_PAGE_SIZE)"
        )

    def test_argument_error_does_not_mention_an_env_var(self) -> None:
        """A bad keyword argument is reported without a (from ...) suffix."""
        with pytest.raises(ConfigError) as info:
            Settings(concurrency=True)
        assert str(info.value) == "concurrency: expected a positive integer <= 1024, got True"

    def test_assignment_is_validated(self) -> None:
        """Assigning to an attribute goes through its descriptor."""
        s = Settings()
        with pytest.raises(ConfigError, match=r"^mode: expected one of sync, threaded"):
            s.mode = "parallel"
        assert s.mode == "sync"

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("postgres_dsn", f"mysql://app:{SECRET}@db/x"),
            ("postgres_dsn", f"host=db password={SECRET} nonsense"),
            ("redis_url", f"http://:{SECRET}@cache"),
        ],
    )
    def test_error_messages_hide_passwords(self, name: str, value: str) -> None:
        """Rejected DSNs and URLs are shown with the password masked, from env or argument."""
        attempts = [
            lambda: Settings(**{name: value}),
            lambda: Settings.from_env({env_var(name): value}),
        ]
        for attempt in attempts:
            with pytest.raises(ConfigError) as info:
                attempt()
            assert SECRET not in str(info.value)
            assert SECRET not in str(info.value.__cause__ or "")
            assert "***" in str(info.value)


class TestSecrets:
    """Passwords never leave Settings in clear text."""

    @pytest.fixture
    def settings(self) -> Settings:
        """Build settings holding a URI DSN and a Redis URL with passwords."""
        return Settings(postgres_dsn=DSN, redis_url=REDIS)

    def test_repr_and_str_mask_passwords(self, settings: Settings) -> None:
        """repr() and str() show *** where the passwords are."""
        for text in (repr(settings), str(settings)):
            assert SECRET not in text
            assert "postgresql://app:***@db.example:5432/workbench" in text

    def test_key_value_dsn_is_masked(self) -> None:
        """A libpq key=value DSN's password is masked too."""
        assert SECRET not in repr(Settings(postgres_dsn=KV_DSN))

    def test_as_dict_redacts_by_default_only(self, settings: Settings) -> None:
        """as_dict() masks passwords; as_dict(redacted=False) gives the real values."""
        assert settings.as_dict()["redis_url"] == "redis://:***@cache.example:6379/0"
        assert SECRET not in str(settings.as_dict())
        assert settings.as_dict(redacted=False)["postgres_dsn"] == DSN

    def test_logged_settings_are_masked(self, settings: Settings) -> None:
        """Logging the settings, or a raw DSN as an extra field, never writes the password."""
        stream = io.StringIO()
        configure_logging("json", "DEBUG", stream)
        try:
            log = logging.getLogger("workbench.test_config")
            log.info("settings %s", settings, extra={"dsn": settings.postgres_dsn})
        finally:
            unconfigure_logging()
        assert "***" in stream.getvalue()
        assert SECRET not in stream.getvalue()


class TestCopiesAndEquality:
    """Pickling, equality and replace()."""

    def test_pickle_round_trip(self) -> None:
        """A pickled and unpickled Settings equals the original, secrets included."""
        original = Settings(postgres_dsn=DSN, resources="todos", max_pages=3)
        copy = pickle.loads(pickle.dumps(original))
        assert copy == original
        assert copy.postgres_dsn == DSN

    def test_equality_compares_values(self) -> None:
        """Settings with the same values are equal; a different value makes them unequal."""
        assert Settings(page_size=5) == Settings(page_size="5")
        assert Settings(page_size=5) != Settings(page_size=6)
        assert Settings() != "Settings()"

    def test_replace_returns_a_validated_copy(self) -> None:
        """replace() leaves the original alone and validates the changed values."""
        original = Settings(max_pages=3)
        changed = original.replace(page_size="50", max_pages=None)
        assert (changed.page_size, changed.max_pages) == (50, None)
        assert (original.page_size, original.max_pages) == (100, 3)
        with pytest.raises(ConfigError, match="page_size"):
            original.replace(page_size=0)
        with pytest.raises(ConfigError, match="unknown setting"):
            original.replace(colour="blue")
