"""Knowledge base: upload, list, delete and re-index documents; try searches and see every score."""

import math
import re

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.conversation.attachments import GLOBAL_SCOPE, visible_documents
from core.errors import DocumentRejected, ObservatoryError
from core.kb import (
    ACCEPTED_SUFFIXES,
    ReindexReport,
    SearchHit,
    SearchMode,
    is_markdown,
    keyword_spans,
)
from pages._shared.acting import staff_actor
from pages._shared.auth import check_page_role
from pages._shared.resources import get_knowledge_base

check_page_role(__file__)

kb = get_knowledge_base()
state = st.session_state
embeddings = kb.embedding_status

st.title("📚 Knowledge base")
st.caption(
    f"Collection `{kb.collection}` · embeddings: {embeddings.model} ({embeddings.mode}) · "
    f"hybrid fusion: {kb.fusion.value} · relevance threshold {kb.settings.relevance_threshold}"
)
if embeddings.mode == "simulated":
    st.warning(embeddings.detail, icon="🧪")


def _upload(files: list[UploadedFile]) -> None:
    for file in files:
        bar = st.progress(0.0, text=f"{file.name}: waiting…")
        try:
            result = kb.ingest(
                file.name,
                file.getvalue(),
                progress=lambda share, message, bar=bar: bar.progress(share, text=message),
            )
        except DocumentRejected as exc:
            bar.empty()
            st.error(str(exc), icon="🚫")
            continue
        except ObservatoryError as exc:
            bar.empty()
            st.error(f"{file.name}: {exc}", icon="🛑")
            continue
        if result.unchanged:
            st.info(f"{file.name} is already indexed and unchanged; nothing was re-embedded.")
        else:
            st.success(f"{file.name}: {result.pages} page(s), {result.chunks} chunk(s) indexed.")
        for note in result.notes:
            st.warning(note)


def _show_reindex(report: ReindexReport) -> None:
    st.toast(f"Re-indexed {report.indexed} document(s).")
    for failure in report.failed:
        st.warning(failure.message, icon="♻️" if failure.kept_previous else "🚫")


def _ask_delete(document_id: int) -> None:
    state["kb_pending_delete"] = document_id


def _cancel_delete() -> None:
    state.pop("kb_pending_delete", None)


def _delete(document_id: int, name: str) -> None:
    state.pop("kb_pending_delete", None)
    try:
        kb.delete_document(document_id)
    except ObservatoryError as exc:
        state["kb_delete_result"] = ("error", str(exc))
    else:
        state["kb_delete_result"] = ("success", f"Deleted {name} and its chunks.")


# Every character Markdown or Streamlit would act on, for text shown as is.
_PLAIN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>$~:"})
# The same within one line that starts with other text (titles and headings).
_INLINE = str.maketrans({c: "\\" + c for c in "\\`*_[]<>$~:"})
# A Markdown file's chunk stays Markdown but inert: no LaTeX, Streamlit directives or emoji,
# strikethrough, code spans (a highlight inside one would show as text) or images.
_MARKDOWN = str.maketrans({"$": "\\$", ":": "\\:", "~": "\\~", "`": "\\`", "!": "\\!"})
_HEADING_LINE = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _chunk_markdown(hit: SearchHit, words: str) -> str:
    """The chunk as Streamlit Markdown with query words highlighted: a Markdown file's own
    formatting is kept (headings as bold lines), any other text is escaped to show as is."""
    markdown = is_markdown(hit.filename)
    text = _HEADING_LINE.sub(r"**\1**", hit.text) if markdown else hit.text
    table = _MARKDOWN if markdown else _PLAIN
    pieces, cursor = [], 0
    for start, end in keyword_spans(words, text):
        word = text[start:end].translate(table)
        pieces += [text[cursor:start].translate(table), f":orange-background[{word}]"]
        cursor = end
    shown = "".join([*pieces, text[cursor:].translate(table)])
    return shown if markdown else shown.replace("\n", "  \n")


upload_limit_mb = min(math.ceil(kb.settings.max_upload_mb), st.get_option("server.maxUploadSize"))
with st.form("kb_upload", clear_on_submit=True):
    files = st.file_uploader(
        "Add Markdown, text or PDF files",
        type=list(ACCEPTED_SUFFIXES),
        accept_multiple_files=True,
        max_upload_size=upload_limit_mb,
        key="kb_files",
    )
    submitted = st.form_submit_button("Index files", type="primary")
if submitted and files:
    _upload(files)

st.subheader("Documents")
if "kb_delete_result" in state:
    kind, message = state.pop("kb_delete_result")
    (st.success if kind == "success" else st.error)(message)
me = staff_actor()
# Customers' attached files are listed only to staff who may open their conversations.
documents = (
    visible_documents(kb.engine, kb, actor=me) if me else kb.list_documents(scope=GLOBAL_SCOPE)
)
if not documents:
    st.info("No documents yet: upload a file above.")
else:
    st.dataframe(
        pd.DataFrame(
            {
                "id": [d.id for d in documents],
                "title": [d.title for d in documents],
                "file": [d.filename for d in documents],
                "source": [d.source for d in documents],
                "scope": [d.scope for d in documents],
                "pages": [d.page_count for d in documents],
                "chunks": [d.chunk_count for d in documents],
                "size (KB)": [round(d.size_bytes / 1024, 1) for d in documents],
                "status": [d.status.value for d in documents],
                "indexed": [d.indexed_at for d in documents],
                "error": [d.error or "" for d in documents],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    names = {d.id: f"{d.title} ({d.filename}, #{d.id})" for d in documents}
    chosen = st.selectbox("Document", list(names), format_func=names.__getitem__, key="kb_doc")
    delete, reindex, reindex_all = st.columns(3)
    if chosen is not None:
        delete.button("Delete…", key="kb_delete", on_click=_ask_delete, args=(chosen,))
    pending = state.get("kb_pending_delete")
    if pending in names:
        with st.container(border=True):
            st.warning(
                f"Delete {names[pending]}? Its file and chunks are removed and searches stop "
                "finding it; this cannot be undone.",
                icon="🗑️",
            )
            yes, no = st.columns(2)
            yes.button(
                "Yes, delete",
                key="kb_delete_confirm",
                type="primary",
                on_click=_delete,
                args=(pending, names[pending]),
            )
            no.button("Cancel", key="kb_delete_cancel", on_click=_cancel_delete)
    try:
        if reindex.button("Re-index", key="kb_reindex") and chosen is not None:
            _show_reindex(kb.reindex(chosen))
        if reindex_all.button("Re-index all", key="kb_reindex_all"):
            _show_reindex(kb.reindex())
    except ObservatoryError as exc:
        st.error(str(exc), icon="🛑")

st.subheader("Search playground")
query = st.text_input("Question", key="kb_query", placeholder="How long do refunds take?")
mode_column, k_column = st.columns([2, 1])
with mode_column:
    mode = (
        st.segmented_control("Mode", list(SearchMode), default=SearchMode.HYBRID, key="kb_mode")
        or SearchMode.HYBRID
    )
with k_column:
    top_k = st.slider("Results", 1, 20, kb.settings.top_k, key="kb_top_k")

if query.strip():
    try:
        hits = kb.search(query, top_k=top_k, mode=SearchMode(mode))
    except ObservatoryError as exc:
        st.error(str(exc), icon="🛑")
        hits = []
    if not hits:
        st.info("Nothing relevant found (every chunk scored under the relevance threshold).")
    for number, hit in enumerate(hits, start=1):
        with st.container(border=True):
            heading = f" › {hit.heading}" if hit.heading else ""
            label = f"{hit.label}{heading}".translate(_INLINE)
            st.markdown(f"**[{number}] {label}** · characters {hit.start}–{hit.end}")
            dense, keyword, fused = st.columns(3)
            dense.metric("Dense (cosine)", f"{hit.dense_score:.3f}")
            keyword.metric(
                "Keyword", "—" if hit.keyword_score is None else f"{hit.keyword_score:.3f}"
            )
            fused.metric(f"Score ({SearchMode(mode).value})", f"{hit.score:.4f}")
            st.markdown(_chunk_markdown(hit, query))
