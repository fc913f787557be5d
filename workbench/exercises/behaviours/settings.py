"""Exercise 03 · settings: a validating descriptor for settings.

``impl.Field(kind, *, min=None, max=None, default=<required>, secret=False)`` is a data
descriptor that checks type and range on every assignment and stores the value per instance;
``impl.Settings(**values)`` is the base class that assigns every field and whose ``repr``
shows each secret as ``***``. Bad values raise ``workbench.errors.ConfigError``.
"""

from __future__ import annotations

from typing import Any

import pytest

from workbench.errors import ConfigError

hint = pytest.mark.hint

PASSWORD = "s3cret-pa55word"


def database_settings(impl: Any) -> type[Any]:
    """Declare, with the answer's Field and Settings, the settings class every test uses."""

    class DatabaseSettings(impl.Settings):  # type: ignore[misc]
        host = impl.Field(str, default="localhost")
        port = impl.Field(int, min=1, max=65535, default=5432)
        timeout = impl.Field(float, min=0.1, max=60.0, default=5.0)
        password = impl.Field(str, secret=True)

    return DatabaseSettings


def rejects(action: Any, *mentions: str) -> str:
    """Run ``action``; require a ConfigError naming each of ``mentions``; return its message."""
    try:
        action()
    except ConfigError as exc:
        message = str(exc)
    except Exception as exc:
        raise AssertionError(f"raised {type(exc).__name__}: {exc}, not ConfigError") from exc
    else:
        raise AssertionError(f"accepted a bad value; expected a ConfigError about {mentions}")
    for text in mentions:
        assert text in message, f"the error {message!r} does not mention {text!r}"
    return message


class TestValues:
    """Storing and reading values."""

    @hint("Store in instance.__dict__[self.name] (learnt in __set_name__), never on the Field.")
    def test_each_instance_keeps_its_own_values(self, impl: Any) -> None:
        """Two settings objects hold their own values: nothing is shared through the descriptor."""
        settings = database_settings(impl)
        a, b = settings(port=5433, password=PASSWORD), settings(port=6543, password="other")
        assert (a.port, b.port) == (5433, 6543), f"ports read back as {a.port}, {b.port}"
        assert a.password == PASSWORD, "the secret is not readable from its attribute"

    @hint("Settings.__init__: a given value, else the Field's default; none of either: error.")
    def test_defaults_fill_in_and_required_fields_are_required(self, impl: Any) -> None:
        """Missing values take their defaults; a missing required one or an unknown name fails."""
        settings = database_settings(impl)
        made = settings(password=PASSWORD)
        got = (made.host, made.port, made.timeout)
        assert got == ("localhost", 5432, 5.0), f"defaults read back as {got}"
        rejects(lambda: settings(), "password")
        rejects(lambda: settings(password=PASSWORD, prot=5432), "prot")

    @hint("__get__(self, instance, owner): when instance is None, return self.")
    def test_the_class_attribute_is_the_descriptor(self, impl: Any) -> None:
        """Reading a field on the class (not an instance) gives the Field itself."""
        field = database_settings(impl).__dict__["port"]
        assert isinstance(field, impl.Field), "the class body did not hold a Field"
        got = database_settings(impl).port
        assert isinstance(got, impl.Field), f"DatabaseSettings.port is {got!r}, not the Field"


class TestValidation:
    """Validating every value."""

    @hint("Validate in __set__, so assignments after __init__ are checked too.")
    def test_validates_every_assignment_not_only_the_first(self, impl: Any) -> None:
        """Assigning a bad value later fails too, and leaves the old value in place."""
        made = database_settings(impl)(password=PASSWORD)

        def assign() -> None:
            made.port = 70000

        rejects(assign, "port")
        assert made.port == 5432, f"after a refused assignment port is {made.port}"

    @hint("isinstance(value, kind), an int accepted (as float) where a float is expected.")
    def test_checks_the_type(self, impl: Any) -> None:
        """A value of the wrong type is refused; an int is accepted (as a float) for a float."""
        settings = database_settings(impl)
        rejects(lambda: settings(port="5432", password=PASSWORD), "port")
        rejects(lambda: settings(host=42, password=PASSWORD), "host")
        made = settings(timeout=3, password=PASSWORD)
        assert made.timeout == 3.0 and isinstance(made.timeout, float), (
            f"timeout=3 read back as {made.timeout!r}, expected 3.0"
        )

    @hint("isinstance(True, int) is True: refuse bools explicitly where numbers are expected.")
    def test_a_bool_is_not_a_number(self, impl: Any) -> None:
        """True is refused where an int is expected, though bool subclasses int."""
        rejects(lambda: database_settings(impl)(port=True, password=PASSWORD), "port")

    @hint("min <= value <= max: both bounds inclusive.")
    def test_checks_the_range_bounds_included(self, impl: Any) -> None:
        """Values on the bounds pass; one step past either bound is refused."""
        settings = database_settings(impl)
        for port in (1, 65535):
            assert settings(port=port, password=PASSWORD).port == port, f"refused port {port}"
        for port in (0, 65536):
            rejects(lambda port=port: settings(port=port, password=PASSWORD), "port")
        rejects(lambda: settings(timeout=0.05, password=PASSWORD), "timeout")

    @hint("Say what was wrong: the field's name and the value it got.")
    def test_an_error_names_the_field_and_the_bad_value(self, impl: Any) -> None:
        """The error for a plain field shows its name and the value that was refused."""
        rejects(lambda: database_settings(impl)(port=70000, password=PASSWORD), "port", "70000")


class TestSecrets:
    """Keeping secrets out of sight."""

    @hint("Settings.__repr__: every field as name=value, secret ones as name='***'.")
    def test_repr_shows_settings_but_masks_secrets(self, impl: Any) -> None:
        """repr() shows every setting but the secret's value, which reads as ***."""
        text = repr(database_settings(impl)(port=6543, password=PASSWORD))
        assert PASSWORD not in text, f"repr shows the password: {text}"
        assert "***" in text, f"repr does not show the secret as ***: {text}"
        assert "6543" in text and "localhost" in text, f"repr hides the plain settings: {text}"

    @hint("A secret field's error names the field and the expectation, never the value.")
    def test_an_error_never_shows_a_secret_value(self, impl: Any) -> None:
        """Refusing a secret field's value names the field without repeating the value."""
        bad = 98765432  # a password of the wrong type: an int
        message = rejects(lambda: database_settings(impl)(password=bad), "password")
        assert str(bad) not in message, f"the error shows the secret value: {message}"
