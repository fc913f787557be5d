from __future__ import annotations

import copy
from typing import Any

import pytest

from workbench.errors import PermanentError, ValidationError
from workbench.processing.schemas import SCHEMAS, schema_for

RESOURCES = ("posts", "comments", "albums", "photos", "todos", "users")


def _post(**overrides: Any) -> dict[str, Any]:
    """Build a valid post with some fields replaced."""
    return {"userId": 1, "id": 1, "title": "t", "body": "b", **overrides}


def _failure(resource: str, record: dict[str, Any]) -> ValidationError:
    """Validate ``record`` and return the error it must raise."""
    with pytest.raises(ValidationError) as info:
        schema_for(resource).validate(record)
    return info.value


class TestSchemaFor:
    """Looking schemas up by resource name."""

    def test_every_jsonplaceholder_resource_has_a_schema(self) -> None:
        """Each of the six resources maps to its own schema."""
        assert set(SCHEMAS) == set(RESOURCES)
        for resource in RESOURCES:
            assert schema_for(resource).resource == resource

    def test_unknown_resource_requires_only_id(self) -> None:
        """A resource without a schema gets one whose only field is id."""
        schema = schema_for("widgets")
        assert schema.resource == "widgets"
        assert schema.fields == (("id", int),)

    def test_every_fixture_record_is_valid(
        self, jsonplaceholder: dict[str, list[dict[str, Any]]]
    ) -> None:
        """Every real record of every resource passes its schema unchanged."""
        for resource in RESOURCES:
            for record in jsonplaceholder[resource]:
                copied = copy.deepcopy(record)
                schema_for(resource).validate(copied)
                assert copied == record


class TestRequiredFields:
    """Missing fields, nested paths and extra fields."""

    def test_missing_field_is_named(self) -> None:
        """A missing required field raises with its name in message and attribute."""
        record = _post()
        del record["title"]
        error = _failure("posts", record)
        assert str(error) == "missing required field 'title'"
        assert error.field == "title"

    def test_missing_nested_field_is_named_by_path(
        self, jsonplaceholder: dict[str, list[dict[str, Any]]]
    ) -> None:
        """A missing field inside a nested object is named by its dotted path."""
        user = copy.deepcopy(jsonplaceholder["users"][0])
        del user["address"]["geo"]["lat"]
        error = _failure("users", user)
        assert str(error) == "missing required field 'address.geo.lat'"
        assert error.field == "address.geo.lat"

    def test_nested_object_of_wrong_type_is_rejected(
        self, jsonplaceholder: dict[str, list[dict[str, Any]]]
    ) -> None:
        """A nested object given as a string is a type error naming 'object'."""
        user = copy.deepcopy(jsonplaceholder["users"][0])
        user["company"] = "ACME"
        assert str(_failure("users", user)) == "field 'company': expected object, got str 'ACME'"

    def test_extra_fields_are_kept(self) -> None:
        """Fields the schema does not name survive validation untouched."""
        record = _post(extra={"nested": [1, 2]})
        schema_for("posts").validate(record)
        assert record["extra"] == {"nested": [1, 2]}

    def test_validation_error_is_permanent(self) -> None:
        """Schema breaks are permanent errors, so nobody retries them."""
        assert isinstance(_failure("posts", {}), PermanentError)


class TestTypes:
    """The strict type rules for int, str, bool and nested objects."""

    def test_string_for_int_is_rejected(self) -> None:
        """A numeric string is not an int: the message shows type and value."""
        error = _failure("posts", _post(userId="x"))
        assert str(error) == "field 'userId': expected int, got str 'x'"
        assert str(_failure("posts", _post(userId="1"))) == (
            "field 'userId': expected int, got str '1'"
        )

    def test_bool_for_int_is_rejected(self) -> None:
        """True is an int in Python but not in JSON, so it is rejected."""
        assert str(_failure("posts", _post(userId=True))) == (
            "field 'userId': expected int, got bool True"
        )

    def test_null_is_described_as_null(self) -> None:
        """A null value is reported as null rather than NoneType."""
        assert str(_failure("posts", _post(title=None))) == "field 'title': expected str, got null"

    def test_integral_float_becomes_int(self) -> None:
        """An integral float such as 2.0 is accepted and rewritten as the int 2."""
        record = _post(userId=2.0, id=3.0)
        schema_for("posts").validate(record)
        assert record["userId"] == 2
        assert type(record["userId"]) is int
        assert type(record["id"]) is int

    @pytest.mark.parametrize("value", [1.5, float("nan"), float("inf")])
    def test_non_integral_float_is_rejected(self, value: float) -> None:
        """Fractional and non-finite floats are not ints."""
        assert str(_failure("posts", _post(userId=value))).startswith(
            "field 'userId': expected int, got float"
        )

    @pytest.mark.parametrize("value", [0, 1, "true", None])
    def test_bool_field_accepts_only_bool(self, value: object) -> None:
        """A bool field refuses 0, 1, strings and null."""
        record = {"userId": 1, "id": 1, "title": "t", "completed": value}
        assert _failure("todos", record).field == "completed"

    def test_long_values_are_shortened_in_the_message(self) -> None:
        """A huge wrong value does not blow up the reason text."""
        message = str(_failure("posts", _post(userId="x" * 10_000)))
        assert len(message) < 120


class TestId:
    """The positive-id rule every schema shares."""

    @pytest.mark.parametrize("value", [0, -1, -1.0])
    def test_non_positive_id_is_rejected(self, value: float) -> None:
        """An id below 1 is rejected with a message saying it must be positive."""
        error = _failure("posts", _post(id=value))
        assert str(error) == f"field 'id': expected a positive int, got {int(value)}"
        assert error.field == "id"

    def test_unknown_resource_checks_id_type_and_sign(self) -> None:
        """The id-only schema still enforces a positive int id."""
        assert str(_failure("widgets", {"name": "w"})) == "missing required field 'id'"
        assert _failure("widgets", {"id": "7"}).field == "id"
        assert _failure("widgets", {"id": 0}).field == "id"
        schema_for("widgets").validate({"id": 7, "anything": [None]})
