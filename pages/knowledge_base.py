"""Knowledge base: upload, list, delete and re-index documents; try searches and see every score."""

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from core.errors import DocumentRejected, ObservatoryError
from core.kb import SearchHit, SearchMode, keyword_spans
from pages._shared.resources import get_knowledge_base

kb = get_knowledge_base()
state = st.session_state

st.title("📚 Knowledge base")
st.caption(
    f"Collection `{kb.collection}` · embeddings: {kb.embedding.model_name} · "
    f"hybrid fusion: {kb.fusion.value} · relevance threshold {kb.settings.relevance_threshold}"
)


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


with st.form("kb_upload", clear_on_submit=True):
    files = st.file_uploader(
        "Add Markdown, text or PDF files",
        type=["md", "markdown", "txt", "pdf"],
        accept_multiple_files=True,
        key="kb_files",
    )
    submitted = st.form_submit_button("Index files", type="primary")
if submitted and files:
    _upload(files)

st.subheader("Documents")
documents = kb.list_documents()
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
        use_container_width=True,
    )
    names = {d.id: f"{d.title} ({d.filename}, #{d.id})" for d in documents}
    chosen = st.selectbox("Document", list(names), format_func=names.__getitem__, key="kb_doc")
    delete, reindex, reindex_all = st.columns(3)
    try:
        if delete.button("Delete", key="kb_delete") and chosen is not None:
            kb.delete_document(chosen)
            st.rerun()
        if reindex.button("Re-index", key="kb_reindex") and chosen is not None:
            kb.reindex(chosen)
            st.toast(f"Re-indexed {names[chosen]}.")
        if reindex_all.button("Re-index all", key="kb_reindex_all"):
            st.toast(f"Re-indexed {kb.reindex().indexed} document(s).")
    except ObservatoryError as exc:
        st.error(str(exc), icon="🛑")

st.subheader("Search playground")
query = st.text_input("Question", key="kb_query", placeholder="How long do refunds take?")
mode_column, k_column = st.columns([2, 1])
with mode_column:
    mode = st.segmented_control(
        "Mode", list(SearchMode), default=SearchMode.HYBRID, key="kb_mode"
    ) or SearchMode.HYBRID
with k_column:
    top_k = st.slider("Results", 1, 20, kb.settings.top_k, key="kb_top_k")


def _highlighted(hit: SearchHit, words: str) -> str:
    text, pieces, cursor = hit.text, [], 0
    for start, end in keyword_spans(words, text):
        word = _escape(text[start:end])
        pieces += [_escape(text[cursor:start]), f":orange-background[{word}]"]
        cursor = end
    return "".join([*pieces, _escape(text[cursor:])])


def _escape(text: str) -> str:
    for char in "\\`*_{}[]()#+-.!|<>$~:":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "  \n")


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
            st.markdown(f"**[{number}] {hit.label}{heading}** · characters {hit.start}–{hit.end}")
            dense, keyword, fused = st.columns(3)
            dense.metric("Dense (cosine)", f"{hit.dense_score:.3f}")
            keyword.metric(
                "Keyword", "—" if hit.keyword_score is None else f"{hit.keyword_score:.3f}"
            )
            fused.metric(f"Score ({SearchMode(mode).value})", f"{hit.score:.4f}")
            st.markdown(_highlighted(hit, query))
