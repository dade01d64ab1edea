"""Arbitrary files, names and text into the knowledge base: whatever comes in, only our own
errors come out (each a sentence), and nothing already indexed changes."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ObservatoryError
from tests.core.kb.conftest import RETURNS_MD, Kb, KbFactory

anything = st.characters(exclude_categories=())
"""Every code point, lone surrogates and NUL included."""
names = st.one_of(
    st.sampled_from(["notes.md", "faq.txt", "guide.pdf", "x.MD", ".txt", "a\x00b.txt"]),
    st.sampled_from(["caf\ud800.md", "\udcff.txt", "menu\x00.pdf"]),
    st.text(anything, max_size=20).map(lambda stem: stem + ".txt"),
    st.text(anything, max_size=30),
)
contents = st.one_of(
    st.binary(max_size=2_000),
    st.text(anything, max_size=600).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.text(max_size=300).map(lambda text: ("# Title\n\n" + text).encode("utf-16")),
    st.binary(max_size=400).map(lambda tail: b"%PDF-1.4\n" + tail),
)


def _snapshot(kb: Kb) -> tuple[object, ...]:
    rows = [(d.id, d.filename, d.status, d.chunk_count) for d in kb.kb.list_documents("global")]
    hits = [(h.document_id, h.text) for h in kb.kb.search("refund timing", scope="global")]
    return tuple(rows), tuple(hits)


def test_arbitrary_files_raise_only_our_errors_and_change_nothing_indexed(
    make_kb: KbFactory,
) -> None:
    kb = make_kb(max_upload_mb=0.01)
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    before = _snapshot(kb)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(filename=names, data=contents, query=st.text(anything, max_size=40))
    def ingest_anything(filename: str, data: bytes, query: str) -> None:
        try:
            kb.kb.ingest(filename, data, source="upload", scope="fuzz")
        except ObservatoryError as exc:
            sentence = str(exc)
            assert sentence and "\n" not in sentence and "Traceback" not in sentence
        with contextlib.suppress(ObservatoryError):
            kb.kb.search(query, scope="fuzz")
        assert _snapshot(kb) == before

    ingest_anything()


def test_a_query_with_a_lone_surrogate_finds_what_the_rest_asks(make_kb: KbFactory) -> None:
    kb = make_kb()
    kb.kb.ingest("returns.md", RETURNS_MD.encode())
    assert kb.kb.search("\ud800 How long do refunds take?")
