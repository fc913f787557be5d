"""How each JSONPlaceholder resource's record is built from its own random generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

from workbench.local_api import vocabulary as vocab

Record = dict[str, Any]
#: Builds record ``record_id`` (whose parent is ``parent_id``) from a generator seeded for it.
Builder = Callable[[Random, int, int], Record]


@dataclass(frozen=True)
class ResourceSpec:
    """One resource: its builder and, for a child, which parent it hangs off and how densely."""

    name: str
    build: Builder
    parent: str | None = None
    parent_key: str | None = None
    per_parent: int = 1


# --- text ---------------------------------------------------------------------------------
# ``lorem`` is the server's hot path (every post and comment calls it five times), so it
# inlines ``Random.randint`` (which is ``low + _randbelow(width)``) and ``Random.choices``
# with the same draws in the same order: the same seed gives exactly the same records.


def lorem(rng: Random, low: int, high: int) -> str:
    """Return between ``low`` and ``high`` lorem-ipsum words joined by spaces."""
    # randrange(n) is _randbelow(n) after argument checks this hot loop can skip.
    count = low + rng._randbelow(high - low + 1)  # type: ignore[attr-defined]
    random, words, size = rng.random, vocab.LOREM, float(len(vocab.LOREM))
    # int() is floor() for the non-negative products choices() takes floor() of.
    return " ".join([words[int(random() * size)] for _ in range(count)])


def paragraph(rng: Random) -> str:
    """Return four lines of lorem ipsum, the shape of JSONPlaceholder's bodies."""
    return "\n".join([lorem(rng, 5, 10), lorem(rng, 5, 10), lorem(rng, 5, 10), lorem(rng, 5, 10)])


def digits(rng: Random, count: int) -> str:
    """Return ``count`` random decimal digits (leading zeros kept)."""
    return "".join(rng.choices("0123456789", k=count))


def email(rng: Random, first: str, last: str) -> str:
    """Return a plausible address such as ``Jayne_Kuhic@sydney.com``."""
    local = rng.choice((first, f"{first}_{last}", f"{first}.{last}"))
    return f"{local}@{rng.choice(vocab.DOMAIN_WORDS)}.{rng.choice(vocab.TLDS)}"


def phone(rng: Random) -> str:
    """Return a phone number in one of the formats JSONPlaceholder's users have."""
    a, b, c = digits(rng, 3), digits(rng, 3), digits(rng, 4)
    number = rng.choice((f"1-{a}-{b}-{c}", f"{a}-{b}-{c}", f"({a}){b}-{c}", f"{a}.{b}.{c}"))
    return number if rng.random() < 0.5 else f"{number} x{digits(rng, rng.randint(3, 5))}"


def coordinate(rng: Random, bound: float) -> str:
    """Return a decimal degree in ``[-bound, bound]`` as a string with four decimals."""
    return f"{rng.uniform(-bound, bound):.4f}"


# --- resources ----------------------------------------------------------------------------


def build_post(rng: Random, record_id: int, parent_id: int) -> Record:
    """Build a post: ``userId, id, title, body``."""
    return {
        "userId": parent_id,
        "id": record_id,
        "title": lorem(rng, 3, 10),
        "body": paragraph(rng),
    }


def build_comment(rng: Random, record_id: int, parent_id: int) -> Record:
    """Build a comment: ``postId, id, name, email, body``."""
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    return {
        "postId": parent_id,
        "id": record_id,
        "name": lorem(rng, 3, 8),
        "email": email(rng, first, last),
        "body": paragraph(rng),
    }


def build_album(rng: Random, record_id: int, parent_id: int) -> Record:
    """Build an album: ``userId, id, title``."""
    return {"userId": parent_id, "id": record_id, "title": lorem(rng, 2, 7)}


def build_photo(rng: Random, record_id: int, parent_id: int) -> Record:
    """Build a photo: ``albumId, id, title, url, thumbnailUrl`` (one colour for both urls)."""
    colour = f"{rng.randrange(0x1000000):06x}"
    return {
        "albumId": parent_id,
        "id": record_id,
        "title": lorem(rng, 3, 9),
        "url": f"https://via.placeholder.com/600/{colour}",
        "thumbnailUrl": f"https://via.placeholder.com/150/{colour}",
    }


def build_todo(rng: Random, record_id: int, parent_id: int) -> Record:
    """Build a todo: ``userId, id, title, completed``."""
    return {
        "userId": parent_id,
        "id": record_id,
        "title": lorem(rng, 2, 9),
        "completed": rng.random() < 0.5,
    }


def company(rng: Random) -> Record:
    """Build a user's company: ``name, catchPhrase, bs``."""
    a, b, c = rng.sample(vocab.LAST_NAMES, 3)
    phrase = (vocab.CATCH_ADJECTIVES, vocab.CATCH_DESCRIPTORS, vocab.CATCH_NOUNS)
    buzz = (vocab.BS_VERBS, vocab.BS_ADJECTIVES, vocab.BS_NOUNS)
    return {
        "name": rng.choice(vocab.COMPANY_FORMS).format(a=a, b=b, c=c),
        "catchPhrase": " ".join(rng.choice(words) for words in phrase),
        "bs": " ".join(rng.choice(words) for words in buzz),
    }


def address(rng: Random) -> Record:
    """Build a user's address: ``street, suite, city, zipcode, geo{lat, lng}``."""
    zipcode = digits(rng, 5) if rng.random() < 0.3 else f"{digits(rng, 5)}-{digits(rng, 4)}"
    city = rng.choice(vocab.CITY_PREFIXES) + rng.choice(vocab.LAST_NAMES)
    return {
        "street": f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.STREET_SUFFIXES)}",
        "suite": f"{rng.choice(('Apt.', 'Suite'))} {rng.randint(100, 999)}",
        "city": city + rng.choice(vocab.CITY_SUFFIXES),
        "zipcode": zipcode,
        "geo": {"lat": coordinate(rng, 90), "lng": coordinate(rng, 180)},
    }


def build_user(rng: Random, record_id: int, parent_id: int) -> Record:
    """Build a user with its nested address (and geo) and company; users have no parent."""
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    return {
        "id": record_id,
        "name": f"{first} {last}",
        "username": rng.choice((first, f"{first}_{last}", f"{first}.{last}")),
        "email": email(rng, first, last),
        "address": address(rng),
        "phone": phone(rng),
        "website": f"{rng.choice(vocab.DOMAIN_WORDS)}.{rng.choice(vocab.TLDS)}",
        "company": company(rng),
    }


#: JSONPlaceholder's resources in its own order; the densities are the real site's.
SPECS: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec("posts", build_post, "users", "userId", 10),
        ResourceSpec("comments", build_comment, "posts", "postId", 5),
        ResourceSpec("albums", build_album, "users", "userId", 10),
        ResourceSpec("photos", build_photo, "albums", "albumId", 50),
        ResourceSpec("todos", build_todo, "users", "userId", 20),
        ResourceSpec("users", build_user),
    )
}
