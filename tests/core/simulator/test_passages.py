"""Reading a retrieved passage into pieces an answer can quote."""

from __future__ import annotations

from core.simulator.passages import Kind, read_units
from core.simulator.question import Ask, read_question
from core.simulator.tables import Row
from core.simulator.words import content_stems

PDF_PAGE = """Delivered on the next business day after shipping by FedEx Priority Overnight or UPS \
Next Day Air. Not
available to Zone 5, P.O. boxes or military addresses.
 Order weight
Zone 1
Zone 2
Up to 5 lb
$29.95
$34.95
6.4 Products not collected within 90 days may be recycled or donated after two written reminders.
7. Repair drop-off appointments
7.1 Repair drop-off appointments last 30 minutes and are free."""
MARKDOWN = """## What's covered

Defects in materials and workmanship under normal use, for example:

- Zippers, buckles and poles that break under normal loads.
- Down that leaks through the fabric, not through a tear.

## Reset your password

1. Go to **Sign in** and choose **Forgot password?**
2. Select the link. It is valid for **60 minutes**.
"""


def test_pdf_table_cells_are_left_out_and_clause_numbers_dropped() -> None:
    texts = [unit.text for unit in read_units(PDF_PAGE)]

    assert texts == [
        "Delivered on the next business day after shipping by FedEx Priority Overnight or UPS "
        "Next Day Air.",
        "Not available to Zone 5, P.O. boxes or military addresses.",
        "Products not collected within 90 days may be recycled or donated after two written "
        "reminders.",
        "Repair drop-off appointments last 30 minutes and are free.",
    ]


def test_a_numbered_line_alone_in_a_pdf_is_a_heading() -> None:
    last = read_units(PDF_PAGE)[-1]

    assert last.heading == "Repair drop-off appointments"
    assert last.kind is Kind.SENTENCE


def test_list_items_know_their_heading_and_the_sentence_introducing_them() -> None:
    zippers = read_units(MARKDOWN)[0]

    assert zippers.kind is Kind.ITEM
    assert zippers.heading == "What's covered"
    assert zippers.lead == "Defects in materials and workmanship under normal use, for example"
    assert zippers.text == "Zippers, buckles and poles that break under normal loads."


def test_numbered_steps_keep_their_labels_and_split_into_sentences() -> None:
    steps = [unit for unit in read_units(MARKDOWN) if unit.kind is Kind.STEP]

    assert [(unit.item, unit.text) for unit in steps] == [
        (0, "Go to Sign in and choose Forgot password?"),
        (1, "Select the link."),
        (1, "It is valid for 60 minutes."),
    ]


def test_yes_no_columns_say_where_and_notes_go_in_brackets() -> None:
    header = ("Method", "Online", "In store", "Notes")

    assert (
        Row(header, ("PayPal", "Yes", "No", "Including PayPal Pay Later")).describe()
        == "PayPal: online (including PayPal Pay Later)."
    )
    assert Row(header, ("Cash", "No", "Yes", "")).describe() == "Cash: in store."


def test_a_row_can_be_told_with_only_the_columns_asked_about() -> None:
    row = Row(
        ("Option", "Delivery time after shipping", "Price"),
        ("Standard", "3–7 business days", "$6.95, free on orders over $75"),
    )

    assert row.describe(lambda name, _: name == "Price") == (
        "Standard: price $6.95, free on orders over $75."
    )


def test_word_forms_meet_and_negations_stay_apart() -> None:
    assert content_stems("sizes sized sizing") == content_stems("size")
    assert content_stems("shipped shipping") == content_stems("ship")
    assert not content_stems("out-of-warranty repairs") & content_stems("warranty")


def test_a_question_in_two_parts_is_read_part_by_part() -> None:
    question = read_question(
        "I returned a jacket last week. Is it covered by the warranty, and how do I claim it?"
    )

    assert [sorted(part.stems) for part in question.parts] == [["cover", "warra"], ["claim"]]
    assert question.parts[1].wants(Ask.STEPS)
    assert "jacke" in question.stems


def test_a_size_code_reads_as_the_size_it_names() -> None:
    table = "| Size | Chest (in) |\n|---|---|\n| S | 35–38 |\n| M | 38–41 |\n"

    [small, medium] = read_units(table)

    assert medium.text == "M (medium): chest (in) 38–41."
    assert content_stems("medium") <= content_stems(medium.own_text)
    assert "medium" not in small.own_text


def test_a_later_sentence_of_a_list_item_knows_the_items_opening() -> None:
    steps = (
        "1. **The parcel reaches the warehouse.** Most returns arrive 3–8 business days later.\n"
    )

    [opening, later] = read_units(steps)

    assert (opening.opening, later.opening) == ("", "The parcel reaches the warehouse.")
