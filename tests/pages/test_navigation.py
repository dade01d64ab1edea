from core.db.models import Role
from pages._shared.navigation import pages_for


def _titles(role: Role) -> list[str]:
    return [entry.title for entries in pages_for(role).values() for entry in entries]


def test_customers_see_the_chat_and_their_traces_only() -> None:
    assert _titles(Role.CUSTOMER) == ["Home", "Customer chat", "Traces"]


def test_agents_get_the_desk_and_the_knowledge_base_but_not_admin() -> None:
    assert _titles(Role.AGENT) == ["Home", "Agent view", "Knowledge base", "Traces"]


def test_admins_see_every_page_in_sections() -> None:
    sections = pages_for(Role.ADMIN)

    assert list(sections) == ["Overview", "Support", "Knowledge", "Observability", "Admin"]
    assert [e.title for e in sections["Support"]] == ["Customer chat", "Agent view"]
