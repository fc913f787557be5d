from __future__ import annotations

import math
from typing import Any

import pytest

from workbench.address_validators import PostgresDsn, RedisUrl, Url
from workbench.errors import ConfigError
from workbench.validators import (
    Bool,
    BoundedFloat,
    Choice,
    OptionalPositiveInt,
    PositiveInt,
    Subset,
    Validated,
)

SOCKET_DSN = "postgresql://postgres:@/postgres?host=/tmp/workbench/pg"


class Holder:
    """One attribute per descriptor kind, as a settings class would declare them."""

    count = PositiveInt(max=10)
    unbounded = PositiveInt()
    limit = OptionalPositiveInt(max=5)
    ratio = BoundedFloat(0.1, 300)
    mode = Choice("sync", "async")
    level = Choice("DEBUG", "INFO")
    resources = Subset("posts", "comments", "todos")
    flag = Bool()
    url = Url()
    dsn = PostgresDsn()
    redis = RedisUrl()


def assign(attribute: str, value: Any) -> Any:
    """Assign ``value`` to a fresh holder's ``attribute`` and return what was stored."""
    holder = Holder()
    setattr(holder, attribute, value)
    return getattr(holder, attribute)


def rejection(attribute: str, value: Any) -> str:
    """Return the message of the ConfigError assigning ``value`` raises."""
    with pytest.raises(ConfigError) as info:
        assign(attribute, value)
    return str(info.value)


class TestValidatedProtocol:
    """The descriptor protocol shared by every Validated field."""

    def test_class_access_returns_the_descriptor(self) -> None:
        """Reading the attribute on the class gives the descriptor object itself."""
        assert isinstance(Holder.count, PositiveInt)
        assert Holder.count.name == "count"

    def test_value_is_stored_in_the_instance(self) -> None:
        """The cleaned value lives in the instance dict, so two instances do not share it."""
        first, second = Holder(), Holder()
        first.count, second.count = "3", 4
        assert (first.count, second.count) == (3, 4)
        assert vars(first)["count"] == 3

    def test_unset_attribute_raises_attribute_error(self) -> None:
        """Reading a field never assigned raises AttributeError, as a plain attribute would."""
        with pytest.raises(AttributeError, match="count"):
            _ = Holder().count

    def test_validate_is_abstract(self) -> None:
        """A descriptor without ``validate`` cannot be instantiated."""
        with pytest.raises(TypeError):
            Validated()  # type: ignore[abstract]

    def test_callable_default_is_called(self) -> None:
        """A factory default is evaluated by ``default_value``; a plain one is returned as is."""
        assert PositiveInt(default=lambda: 7).default_value() == 7
        assert PositiveInt(default=3).default_value() == 3

    def test_message_is_one_line_naming_setting_value_and_expectation(self) -> None:
        """The error names the attribute, quotes the value and says what was expected."""
        message = rejection("count", "-3")
        assert message == "count: expected a positive integer <= 10, got '-3'"
        assert "\n" not in message


class TestPositiveInt:
    """PositiveInt accepts 1..max and int-like strings only."""

    @pytest.mark.parametrize(("value", "cleaned"), [(1, 1), (10, 10), ("7", 7), (" 8 ", 8)])
    def test_accepts_ints_and_int_strings(self, value: Any, cleaned: int) -> None:
        """Ints and decimal strings from env vars within 1..max are stored as ints."""
        assert assign("count", value) == cleaned

    @pytest.mark.parametrize(
        "value", [True, False, 0, -1, 11, "0", "-3", "1.5", 2.0, "x", "", None]
    )
    def test_rejects_bools_non_positive_too_large_and_non_integers(self, value: Any) -> None:
        """Bools, zero, negatives, values over max, floats and junk are refused."""
        rejection("count", value)

    def test_without_max_accepts_large_values(self) -> None:
        """With no max any positive integer is fine and the message mentions no bound."""
        assert assign("unbounded", 10**9) == 10**9
        assert rejection("unbounded", 0).endswith("expected a positive integer, got 0")


class TestOptionalPositiveInt:
    """OptionalPositiveInt adds None to PositiveInt."""

    def test_accepts_none_and_positive_ints(self) -> None:
        """None means "no limit"; positive ints within max pass as for PositiveInt."""
        assert assign("limit", None) is None
        assert assign("limit", "5") == 5

    def test_rejects_what_positive_int_rejects(self) -> None:
        """Bools and out-of-range values are still refused, and the message mentions None."""
        assert "or None" in rejection("limit", True)
        rejection("limit", 6)


class TestBoundedFloat:
    """BoundedFloat accepts finite numbers within its range."""

    @pytest.mark.parametrize(("value", "cleaned"), [(0.1, 0.1), (300, 300.0), ("2.5", 2.5)])
    def test_accepts_numbers_in_range(self, value: Any, cleaned: float) -> None:
        """Ints, floats and numeric strings inside the closed range are stored as floats."""
        stored = assign("ratio", value)
        assert stored == cleaned
        assert isinstance(stored, float)

    @pytest.mark.parametrize("value", [0.05, 300.5, "nan", math.inf, "abc", True, None])
    def test_rejects_out_of_range_nan_and_bools(self, value: Any) -> None:
        """Values outside the range, NaN, infinity, bools and junk are refused."""
        assert "between 0.1 and 300" in rejection("ratio", value)


class TestChoice:
    """Choice accepts one option, case-insensitively."""

    def test_matches_case_insensitively_and_returns_canonical_spelling(self) -> None:
        """Values "async", "ASYNC " and "debug" are stored as the options spell them."""
        assert assign("mode", "ASYNC ") == "async"
        assert assign("level", "debug") == "DEBUG"

    @pytest.mark.parametrize("value", ["threads", "", 1, None])
    def test_rejects_other_values_listing_the_options(self, value: Any) -> None:
        """Anything not among the options is refused and the message lists them."""
        assert "one of sync, async" in rejection("mode", value)


class TestSubset:
    """Subset accepts a non-empty list of options."""

    def test_reads_comma_separated_string_in_order_without_duplicates(self) -> None:
        """The string "todos, posts,,todos" becomes ('todos', 'posts')."""
        assert assign("resources", "todos, posts,,todos") == ("todos", "posts")

    def test_accepts_an_iterable(self) -> None:
        """A list or tuple of option names is accepted and stored as a tuple."""
        assert assign("resources", ["comments"]) == ("comments",)

    @pytest.mark.parametrize("value", ["", " , ", "posts,users", [], 3, [1]])
    def test_rejects_empty_unknown_and_non_string_items(self, value: Any) -> None:
        """An empty list, an unknown name or a non-string item is refused."""
        rejection("resources", value)


class TestBool:
    """Bool accepts booleans and their env-var spellings."""

    @pytest.mark.parametrize("value", [True, "true", "YES", " on ", "1", 1])
    def test_true_spellings(self, value: Any) -> None:
        """The usual env-var spellings of true are read as True."""
        assert assign("flag", value) is True

    @pytest.mark.parametrize("value", [False, "false", "No", "off", "0", 0])
    def test_false_spellings(self, value: Any) -> None:
        """The usual env-var spellings of false are read as False."""
        assert assign("flag", value) is False

    @pytest.mark.parametrize("value", ["maybe", "", 2, None, [], 1.0])
    def test_rejects_other_values(self, value: Any) -> None:
        """Anything else, including unhashable values and 1.0, is refused."""
        rejection("flag", value)


class TestUrl:
    """Url accepts http(s) URLs with a host."""

    def test_accepts_http_and_https_and_strips_trailing_slash(self) -> None:
        """A URL with a host is kept, minus surrounding whitespace and a trailing slash."""
        assert assign("url", " https://jsonplaceholder.typicode.com/ ") == (
            "https://jsonplaceholder.typicode.com"
        )
        assert assign("url", "http://127.0.0.1:8080/api") == "http://127.0.0.1:8080/api"

    @pytest.mark.parametrize(
        "value", ["ftp://host", "https://", "host.example", "http://h:99999", "http://h:x", 5]
    )
    def test_rejects_other_schemes_missing_host_and_bad_port(self, value: Any) -> None:
        """Non-http schemes, a missing host, a bad port and non-strings are refused."""
        rejection("url", value)

    def test_password_is_redacted_in_the_message(self) -> None:
        """A rejected URL with credentials shows *** instead of the password."""
        message = rejection("url", "ftp://user:hunter2@host")
        assert "hunter2" not in message
        assert "user:***@host" in message


class TestPostgresDsn:
    """PostgresDsn accepts what libpq accepts, postgres schemes only."""

    @pytest.mark.parametrize(
        "value",
        [
            "postgresql://user:pw@localhost:5432/db",
            "postgres://localhost/db",
            SOCKET_DSN,
            "host=localhost port=5432 dbname=db user=u password='p w'",
            "postgresql://h1:5432,h2:5433/db",
        ],
    )
    def test_accepts_uris_key_value_and_the_embedded_socket_form(self, value: str) -> None:
        """URIs, libpq key=value strings and the embedded server's socket URI are accepted."""
        assert assign("dsn", value) == value

    @pytest.mark.parametrize(
        "value",
        ["", "mysql://u@h/db", "http://h/db", "nonsense", "foo=bar", "host=h port=abc", None, 1],
    )
    def test_rejects_other_schemes_and_malformed_strings(self, value: Any) -> None:
        """Other schemes, unknown keywords, non-numeric ports and non-strings are refused."""
        assert "postgresql://" in rejection("dsn", value)

    @pytest.mark.parametrize("value", ["mysql://u:hunter2@h/db", "host=h password=hunter2 bogus=1"])
    def test_password_never_appears_in_the_message(self, value: str) -> None:
        """Both URI and key=value passwords are masked in the error message."""
        message = rejection("dsn", value)
        assert "hunter2" not in message
        assert "***" in message


class TestRedisUrl:
    """RedisUrl accepts redis, rediss and unix URLs."""

    @pytest.mark.parametrize(
        "value",
        ["redis://localhost:6379/0", "rediss://:pw@cache.example:6380", "unix:///tmp/v.sock"],
    )
    def test_accepts_redis_rediss_and_unix(self, value: str) -> None:
        """TCP, TLS and unix-socket URLs are accepted unchanged."""
        assert assign("redis", value) == value

    @pytest.mark.parametrize(
        "value", ["http://localhost", "redis://", "redis://h/db", "unix://", "redis://h:0x", None]
    )
    def test_rejects_other_schemes_missing_host_or_path_and_bad_db(self, value: Any) -> None:
        """Other schemes, no host, no socket path, a non-numeric db or port are refused."""
        rejection("redis", value)
