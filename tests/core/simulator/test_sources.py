from core.simulator.question import read_question
from core.simulator.relevance import rank_evidence
from core.simulator.sources import Source, split_sentences

RETURNS = """## How long you have

| Customer | Return window | Starts on |
|---|---|---|
| Everyone | 30 days | the delivery date |
| Trail Club members | 60 days | the delivery date |

Ship the parcel within 14 days of starting the return.
"""


def test_table_rows_become_sentences_that_name_their_columns() -> None:
    sentences = split_sentences(RETURNS)

    assert "Everyone: return window 30 days, starts on the delivery date." in sentences
    assert not any("|" in sentence for sentence in sentences)


def test_text_outside_tables_is_unchanged() -> None:
    assert split_sentences("Plain words stay as written.\n\n- a bullet point") == [
        "Plain words stay as written.",
        "a bullet point",
    ]


def test_a_question_about_a_window_is_answered_from_the_table_row() -> None:
    question = read_question("How many days is the return window?")
    best = rank_evidence(question, [Source(1, "Returns", RETURNS)]).evidence[0]

    assert best.sentence.startswith("Everyone: return window 30 days")


def test_headings_and_questions_are_not_offered_as_answers() -> None:
    text = "## How long each method takes\n\nForgot your password?\n\nCards take 5 days to refund."

    assert split_sentences(text) == ["Cards take 5 days to refund."]
