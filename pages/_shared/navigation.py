"""Which pages each role sees, by section: the one place that decides the navigation.

Roles are the values of ``core.db.models.Role`` as plain strings (a ``Role`` is one too): this
module and the role switch run before anything slow is imported, so that the first page view
shows the role's own navigation at once (see ``app.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

CUSTOMER, AGENT, ADMIN = "customer", "agent", "admin"
EVERYONE = frozenset({CUSTOMER, AGENT, ADMIN})
STAFF = frozenset({AGENT, ADMIN})
TRACES_PAGE = "pages/traces.py"


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    """A Material icon: an emoji would import Streamlit's emoji table (a quarter of a second)
    before the navigation is drawn on the first page view."""
    roles: frozenset[str]
    section: str


PAGES = (
    PageEntry("pages/home.py", "Home", ":material/home:", EVERYONE, "Overview"),
    PageEntry("pages/scenarios.py", "Scenarios", ":material/play_circle:", STAFF, "Overview"),
    PageEntry(
        "pages/customer_chat.py",
        "Customer chat",
        ":material/chat:",
        frozenset({CUSTOMER, ADMIN}),
        "Support",
    ),
    PageEntry("pages/agent_view.py", "Agent view", ":material/support_agent:", STAFF, "Support"),
    PageEntry(
        "pages/knowledge_base.py", "Knowledge base", ":material/menu_book:", STAFF, "Knowledge"
    ),
    PageEntry(TRACES_PAGE, "Traces", ":material/timeline:", STAFF, "Observability"),
    PageEntry("pages/analytics.py", "Analytics", ":material/monitoring:", STAFF, "Observability"),
    PageEntry(
        "pages/admin.py", "Admin", ":material/admin_panel_settings:", frozenset({ADMIN}), "Admin"
    ),
)
"""Every built page; the first is the default. Traces and Analytics show every customer's
conversations, so they are for staff only."""


def pages_for(role: str) -> dict[str, list[PageEntry]]:
    """The pages ``role`` may open, grouped by section in navigation order."""
    sections: dict[str, list[PageEntry]] = {}
    for entry in PAGES:
        if role in entry.roles:
            sections.setdefault(entry.section, []).append(entry)
    return sections


def can_open(role: str, path: str) -> bool:
    """Whether ``role`` has the page at ``path`` in its navigation."""
    return any(entry.path == path and role in entry.roles for entry in PAGES)
