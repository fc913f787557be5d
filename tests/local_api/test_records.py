from __future__ import annotations

import re
from collections import Counter
from random import Random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.local_api import vocabulary
from workbench.local_api.records import SPECS, email, lorem, paragraph, phone

EMAIL = re.compile(r"^[A-Za-z]+([._][A-Za-z]+)?@[a-z]+\.[a-z]+$")


def shape(value: Any) -> Any:
    """Describe a JSON value by its field names, their order, nesting and JSON types."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def build(resource: str, record_id: int = 1, parent_id: int = 1) -> dict[str, Any]:
    """Build one record of ``resource`` from a fixed generator."""
    return SPECS[resource].build(Random(record_id), record_id, parent_id)


class TestShapesMatchTheRealData:
    """Generated records against the real JSONPlaceholder fixture."""

    @pytest.mark.parametrize("resource", list(SPECS))
    def test_every_real_record_has_one_shape(self, real_data: dict, resource: str) -> None:
        """All real records of a resource share one shape, so comparing with one is enough."""
        shapes = {repr(shape(record)) for record in real_data[resource]}
        assert len(shapes) == 1

    @pytest.mark.parametrize("resource", list(SPECS))
    def test_generated_records_have_the_real_shape(self, real_data: dict, resource: str) -> None:
        """Generated records have the real field names, order, nesting and JSON types."""
        expected = shape(real_data[resource][0])
        for record_id in range(1, 30):
            assert shape(build(resource, record_id)) == expected

    @pytest.mark.parametrize("resource", [name for name in SPECS if SPECS[name].parent])
    def test_real_children_are_laid_out_as_ours(self, real_data: dict, resource: str) -> None:
        """The real data puts ``per_parent`` children under each parent, in id order, as we do."""
        spec = SPECS[resource]
        for record in real_data[resource]:
            assert record[spec.parent_key] == (record["id"] - 1) // spec.per_parent + 1
        per_parent = Counter(record[spec.parent_key] for record in real_data[resource])
        assert set(per_parent.values()) == {spec.per_parent}


class TestBuilders:
    """The plausibility of the generated text, emails, phones and urls."""

    def test_builders_use_the_ids_given(self) -> None:
        """A built record carries its own id and its parent's id."""
        comment = build("comments", 12, 3)
        assert (comment["id"], comment["postId"]) == (12, 3)

    def test_text_is_lorem_ipsum(self) -> None:
        """Titles and bodies are made of JSONPlaceholder's lorem-ipsum words."""
        post = build("posts", 5)
        words = set(post["title"].split()) | set(post["body"].split())
        assert words <= set(vocabulary.LOREM)

    def test_bodies_have_four_lines(self) -> None:
        """Bodies are four non-empty lines, like the real ones."""
        lines = paragraph(Random(1)).split("\n")
        assert len(lines) == 4
        assert all(lines)

    def test_emails_are_plausible(self) -> None:
        """Emails look like ``First_Last@domain.tld``."""
        for seed in range(50):
            assert EMAIL.match(email(Random(seed), "Jayne", "Kuhic"))

    def test_phones_are_plausible(self) -> None:
        """Phone numbers are digits in one of the real formats, maybe with an extension."""
        for seed in range(50):
            assert re.fullmatch(r"[0-9().\- ]+( x[0-9]{3,5})?", phone(Random(seed)))

    def test_photo_urls_share_a_colour(self) -> None:
        """A photo's url and thumbnail show the same colour in different sizes."""
        photo = build("photos", 9)
        colour = photo["url"].rsplit("/", 1)[1]
        assert re.fullmatch(r"[0-9a-f]{6}", colour)
        assert photo["url"] == f"https://via.placeholder.com/600/{colour}"
        assert photo["thumbnailUrl"] == f"https://via.placeholder.com/150/{colour}"

    def test_geo_is_in_range(self) -> None:
        """Latitudes and longitudes are strings of valid degrees."""
        for record_id in range(1, 40):
            geo = build("users", record_id)["address"]["geo"]
            assert -90 <= float(geo["lat"]) <= 90
            assert -180 <= float(geo["lng"]) <= 180


def reference_lorem(rng: Random, low: int, high: int) -> str:
    """``lorem`` as written with the public Random API."""
    return " ".join(rng.choices(vocabulary.LOREM, k=rng.randint(low, high)))


class TestText:
    """The fast text generators draw exactly what the plain Random calls draw."""

    @given(st.text(max_size=20), st.integers(0, 5), st.integers(0, 12))
    def test_lorem_matches_randint_and_choices(self, seed: str, low: int, extra: int) -> None:
        """For any seed and bounds, lorem gives the same words and leaves the same state."""
        fast, plain = Random(seed), Random(seed)
        assert lorem(fast, low, low + extra) == reference_lorem(plain, low, low + extra)
        assert fast.random() == plain.random()

    def test_paragraph_is_four_lorem_lines(self) -> None:
        """A paragraph is four lines of 5 to 10 words, drawn one line after another."""
        fast, plain = Random("p"), Random("p")
        lines = paragraph(fast).split("\n")
        assert lines == [reference_lorem(plain, 5, 10) for _ in range(4)]
        assert all(5 <= len(line.split()) <= 10 for line in lines)
