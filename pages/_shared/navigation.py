"""Which pages each role sees, by section: the one place that decides the navigation."""

from __future__ import annotations

from dataclasses import dataclass

from core.db.models import Role


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    roles: frozenset[Role]
    section: str


EVERYONE = frozenset(Role)
STAFF = frozenset({Role.AGENT, Role.ADMIN})
PAGES = (
    PageEntry("pages/home.py", "Home", "🏠", EVERYONE, "Overview"),
    PageEntry(
        "pages/customer_chat.py",
        "Customer chat",
        "💬",
        frozenset({Role.CUSTOMER, Role.ADMIN}),
        "Support",
    ),
    PageEntry("pages/agent_view.py", "Agent view", "🧑‍💼", STAFF, "Support"),
    PageEntry("pages/knowledge_base.py", "Knowledge base", "📚", STAFF, "Knowledge"),
    PageEntry("pages/traces.py", "Traces", "🔎", EVERYONE, "Observability"),
    PageEntry("pages/admin.py", "Admin", "🛠️", frozenset({Role.ADMIN}), "Admin"),
)
"""Every built page; the first is the default."""


def pages_for(role: Role) -> dict[str, list[PageEntry]]:
    """The pages ``role`` may open, grouped by section in navigation order."""
    sections: dict[str, list[PageEntry]] = {}
    for entry in PAGES:
        if role in entry.roles:
            sections.setdefault(entry.section, []).append(entry)
    return sections
