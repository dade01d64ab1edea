"""Demo people: 60 customers, two agents and an admin, the same on every run."""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.db.models import Role

CUSTOMER_COUNT = 60

_FIRST = (
    "Ava",
    "Liam",
    "Maya",
    "Noah",
    "Zoe",
    "Ethan",
    "Priya",
    "Lucas",
    "Chloe",
    "Mateo",
    "Hana",
    "Owen",
    "Leila",
    "Diego",
    "Nora",
    "Felix",
    "Ines",
    "Samuel",
    "Yara",
    "Jonas",
    "Amara",
    "Caleb",
    "Mei",
    "Rafael",
    "Sofia",
    "Theo",
    "Anika",
    "Hugo",
    "Isla",
    "Kofi",
)
_LAST = (
    "Johnson",
    "Patel",
    "Garcia",
    "Nguyen",
    "Kim",
    "Okafor",
    "Silva",
    "Müller",
    "Rossi",
    "Larsen",
    "Cohen",
    "Haddad",
    "Novak",
    "Tanaka",
    "Brennan",
    "Moreau",
    "Alvarez",
    "Fischer",
    "Sato",
    "Mensah",
    "Kowalski",
    "Dubois",
    "Ortiz",
    "Lindqvist",
    "Ivanova",
    "Byrne",
)
_CITIES = (
    "Seattle, WA",
    "Portland, OR",
    "Denver, CO",
    "Austin, TX",
    "Boston, MA",
    "Chicago, IL",
    "Minneapolis, MN",
    "San Diego, CA",
    "Toronto, ON",
    "Salt Lake City, UT",
)


@dataclass(frozen=True)
class SeedPerson:
    name: str
    email: str
    role: Role
    phone: str | None
    city: str | None


STAFF = (
    SeedPerson("Alex Rivera", "alex.rivera@northwind.example", Role.AGENT, None, "Seattle, WA"),
    SeedPerson("Jordan Blake", "jordan.blake@northwind.example", Role.AGENT, None, "Portland, OR"),
    SeedPerson("Sam Chen", "sam.chen@northwind.example", Role.ADMIN, None, "Seattle, WA"),
)


def build_customers(count: int = CUSTOMER_COUNT) -> list[SeedPerson]:
    """``count`` distinct customers with names, e-mails, phones and cities from a fixed seed."""
    rng = random.Random(2026)
    pairs = [(first, last) for first in _FIRST for last in _LAST]
    rng.shuffle(pairs)
    customers = []
    for first, last in pairs[:count]:
        ascii_last = last.replace("ü", "ue")
        customers.append(
            SeedPerson(
                name=f"{first} {last}",
                email=f"{first.lower()}.{ascii_last.lower()}@example.com",
                role=Role.CUSTOMER,
                phone=f"+1 206 555 {rng.randint(100, 999):03d}{rng.randint(0, 9)}",
                city=rng.choice(_CITIES),
            )
        )
    return customers
