from streamlit.testing.v1 import AppTest

TABLE_SNIPPET = (
    "## How long you have | Customer | Return window | |---|---| | Everyone | 30 days | "
    "| Trail Club members | 60 days | " + "Items must be unused and in their box. " * 20
)


def _sources_of_an_answer_citing_2() -> None:
    from pages._shared.chat_widgets import show_citations
    from tests.pages.test_chat_widgets import TABLE_SNIPPET

    show_citations([{"number": 2, "title": "Returns Policy", "page": 3, "snippet": TABLE_SNIPPET}])


def _unescaped(markdown: str) -> str:
    return markdown.replace("\\", "")


def test_sources_are_numbered_as_the_answer_cites_them() -> None:
    at = AppTest.from_function(_sources_of_an_answer_citing_2, default_timeout=60).run()

    assert [_unescaped(e.label) for e in at.expander] == ["Sources [2]"]
    assert _unescaped(at.markdown[0].value) == "**[2] Returns Policy**, page 3"


def test_a_snippet_with_a_markdown_table_reads_as_one_short_line_of_plain_text() -> None:
    at = AppTest.from_function(_sources_of_an_answer_citing_2, default_timeout=60).run()

    snippet = at.caption[0].value
    assert _unescaped(snippet).startswith(
        "How long you have · Customer · Return window · Everyone · 30 days · Trail Club members"
    )
    assert "#" not in snippet and "|" not in snippet and "---" not in snippet
    assert snippet.endswith("…") and len(_unescaped(snippet)) <= 221
    assert "\\." in snippet  # what is left is escaped: Markdown cannot re-read it


def _a_customer_message_with_a_tracking_pixel() -> None:
    from core.db.models import Message, MessageRole
    from pages._shared.chat_widgets import show_message

    show_message(
        Message(
            conversation_id="c-1",
            role=MessageRole.USER,
            content="Where is my order? ![pixel](http://tracker.example/p.png) **now**",
        )
    )


def test_a_customer_message_is_shown_as_typed_not_as_markdown() -> None:
    at = AppTest.from_function(_a_customer_message_with_a_tracking_pixel, default_timeout=60).run()

    assert not at.markdown, "no Markdown: a remote image would be fetched by every viewer"
    assert [t.value for t in at.text] == [
        "Where is my order? ![pixel](http://tracker.example/p.png) **now**"
    ]
