from __future__ import annotations

import pytest

from workbench.redaction import redact


class TestRedact:
    """redact() masks passwords in URIs, key=value DSNs and free text."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("postgresql://user:hunter2@host:5432/db", "postgresql://user:***@host:5432/db"),
            ("redis://:hunter2@localhost:6379/0", "redis://:***@localhost:6379/0"),
            ("https://u:hunter2@example.com/x", "https://u:***@example.com/x"),
            ("postgresql://u:p@ss/w?rd@host/db", "postgresql://u:***@host/db"),
        ],
    )
    def test_masks_uri_passwords(self, text: str, expected: str) -> None:
        """The password between ``user:`` and the last ``@`` becomes ***."""
        assert redact(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("host=h password=hunter2 dbname=d", "host=h password=*** dbname=d"),
            ("host=h password = 'hunter 2' dbname=d", "host=h password = *** dbname=d"),
            (r"password='it\'s secret' host=h", "password=*** host=h"),
            ("PGPASSWORD=hunter2", "PGPASSWORD=***"),
            ("postgresql://h/db?password=hunter2", "postgresql://h/db?password=***"),
        ],
    )
    def test_masks_key_value_and_query_passwords(self, text: str, expected: str) -> None:
        """Quoted or bare libpq ``password=`` values and ``?password=`` parameters are masked."""
        assert redact(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql://user@host/db",
            "https://jsonplaceholder.typicode.com/posts",
            "plain text with no secrets",
            "",
        ],
    )
    def test_leaves_text_without_password_unchanged(self, text: str) -> None:
        """Empty passwords, user-only URIs and ordinary text come back as they were."""
        assert redact(text) == text

    def test_masks_secrets_embedded_in_longer_text(self) -> None:
        """A DSN quoted inside an error message is masked in place."""
        text = "could not connect to 'postgresql://app:hunter2@db:5432/x': refused"
        assert redact(text) == "could not connect to 'postgresql://app:***@db:5432/x': refused"
