"""Hosted with sign-in, in a real browser: a local OpenID provider (``oidc-provider-mock``,
in a thread), the app started with ``[auth]`` secrets pointing at it, and an admin, an agent
and a customer signing in in turn through the provider's form. Each sees its role's pages
only, a page outside its role says so, and signing out returns to the sign-in screen.
Screenshots of each role's first page are kept under the test's temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from pages._shared.navigation import PAGES
from seed.people import STAFF, build_customers
from tests.e2e.conftest import new_tab, offline_env, serve_app

pytestmark = pytest.mark.browser

BOSS = ("boss@company.example", "Bea Boss")
"""The first admin, by AUTH__ADMIN_EMAILS (no row before the first sign-in)."""
AGENT = next((p.email, p.name) for p in STAFF if p.role.value == "agent")
CUSTOMER = (build_customers()[0].email, build_customers()[0].name)
FIRST_START_MS = 300_000


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """A local OpenID provider on a free port that knows the three people's claims."""
    import oidc_provider_mock

    with oidc_provider_mock.run_server_in_thread() as server:
        url = f"http://localhost:{server.server_port}"
        for email, name in (BOSS, AGENT, CUSTOMER):
            answer = httpx.put(f"{url}/users/{quote(email)}", json={"email": email, "name": name})
            assert answer.status_code == 204
        yield url


@pytest.fixture(scope="module")
def hosted_app(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[str]:
    """``streamlit run app.py`` with ``[auth]`` in a secrets file of its own (Streamlit's
    ``secrets.files`` option, here ``STREAMLIT_SECRETS_FILES``)."""
    folder = tmp_path_factory.mktemp("hosted")
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-cookie-secret-for-the-browser-test"\n'
        'client_id = "support-observatory"\n'
        'client_secret = "any-secret-the-mock-accepts"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    env = offline_env(
        folder / "data", STREAMLIT_SECRETS_FILES=str(secrets), AUTH__ADMIN_EMAILS=BOSS[0]
    )
    with serve_app(env, folder / "streamlit.log") as url:
        yield url


def sign_in(tab: Any, email: str) -> None:
    """From the sign-in screen, through the provider's form, back to the app."""
    from playwright.sync_api import expect

    expect(tab.get_by_role("heading", name="Support Observatory")).to_be_visible()
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_placeholder("sub").fill(email)
    tab.get_by_role("button", name="Authorize").click()
    expect(tab.get_by_text(f"({email})")).to_be_visible(timeout=FIRST_START_MS)


def navigation(tab: Any) -> list[str]:
    """The titles of the sidebar's page links (each link's text ends with its title, after
    its icon's name)."""
    links = tab.locator('[data-testid="stSidebarNav"] a')
    return sorted(text.strip().splitlines()[-1].strip() for text in links.all_inner_texts())


@pytest.mark.parametrize(
    ("person", "role", "refused_page", "refusal"),
    [
        (BOSS, "Admin", None, None),
        (AGENT, "Support agent", "admin", "for admins; you are signed in as a support agent"),
        (CUSTOMER, "Customer", "traces", "for support staff; you are signed in as a customer"),
    ],
    ids=["admin", "agent", "customer"],
)  # fmt: skip
def test_each_role_signs_in_sees_its_pages_only_and_signs_out(
    browser: Any,
    hosted_app: str,
    tmp_path: Path,
    person: tuple[str, str],
    role: str,
    refused_page: str | None,
    refusal: str | None,
) -> None:
    from playwright.sync_api import expect

    email, name = person
    tab = new_tab(browser, hosted_app)
    try:
        expect(tab.get_by_role("button", name="Sign in")).to_be_visible(timeout=FIRST_START_MS)
        expect(tab.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
        tab.screenshot(path=str(tmp_path / "sign-in.png"))
        sign_in(tab, email)

        sidebar = tab.locator('[data-testid="stSidebar"]')
        expect(sidebar).to_contain_text(f"Signed in as {name} ({email}) · {role}")
        expect(sidebar).not_to_contain_text("demo mode")
        expect(tab.get_by_text("Use the demo as")).to_have_count(0)
        key = {"Admin": "admin", "Support agent": "agent", "Customer": "customer"}[role]
        assert navigation(tab) == sorted(e.title for e in PAGES if key in e.roles)
        expect(tab.locator('[data-testid="stMetric"]').first).to_be_visible()
        tab.screenshot(path=str(tmp_path / f"signed-in-{key}.png"), full_page=True)

        if key == "admin":
            tab.locator('[data-testid="stSidebarNav"] a', has_text="Admin").click()
            expect(tab.get_by_role("heading", name="Users and roles")).to_be_visible()
            expect(tab.get_by_role("heading", name="Audit log")).to_be_visible()
            expect(tab.get_by_role("button", name="Download these")).to_be_visible()
            tab.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
            tab.get_by_role("heading", name="Users and roles").scroll_into_view_if_needed()
            tab.screenshot(path=str(tmp_path / "admin-users.png"))
            tab.get_by_role("heading", name="Audit log").scroll_into_view_if_needed()
            tab.screenshot(path=str(tmp_path / "admin-audit.png"))

        if key == "customer":
            tab.locator('[data-testid="stSidebarNav"] a', has_text="Customer chat").click()
            expect(tab.get_by_text(f"chatting as {name}")).to_be_visible()
            expect(tab.locator('[data-testid="stChatInput"]')).to_be_visible()
            expect(tab.get_by_text("Chat as")).to_have_count(0)
            tab.screenshot(path=str(tmp_path / "customer-chat.png"), full_page=True)
        if refused_page is not None:
            tab.goto(f"{hosted_app}/{refused_page}", wait_until="commit")
            expect(tab.get_by_text(refusal or "")).to_be_visible()
            expect(tab.locator("h1")).to_have_count(0)
            tab.screenshot(path=str(tmp_path / f"refused-{key}.png"), full_page=True)

        tab.get_by_role("button", name="Sign out").click()
        # The provider's end-session page (the mock's asks for a click), then back to the app.
        tab.get_by_role("button", name="End session").click()
        expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
        expect(tab.locator('[data-testid="stSidebarNav"]')).to_have_count(0)
    finally:
        tab.context.close()
