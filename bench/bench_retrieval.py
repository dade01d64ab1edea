"""Retrieval quality and speed of the knowledge base on the seed documents.

    python bench/bench_retrieval.py                      # quality per mode/fusion + latency
    python bench/bench_retrieval.py --compare /tmp/fp32  # a folder holding model.onnx, or the file

Quality: recall@1, recall@5 and MRR over ``seed/eval/retrieval_questions.json`` (a question counts
as found at rank r when the r-th distinct document retrieved is one of its ``relevant`` slugs),
for dense, keyword and hybrid search with each fusion; also the dense score of the first relevant
hit, to set the relevance threshold. Latency: p50/p95 of ``kb.search`` (query embedding
included) in local mode with the collection padded to ``--chunks`` chunks by perturbed copies of
the real ones. ``--compare`` scores another ONNX export of the model (e.g. the exact fp32 one
from ``core/kb/export_model.py --fp32 DIR``) against the shipped int8 file: cosine of their
vectors on every chunk and question, then recall@1, recall@5 and MRR of dense and hybrid search
with each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import create_db_engine, init_schema
from core.kb import Fusion, KnowledgeBase, SearchMode, create_knowledge_base
from core.kb.embedder import LocalEmbedder, get_local_embedder
from core.kb.sparse import document_vector
from core.settings import AppSettings, Settings, VectorSettings
from seed.documents import iter_seed_documents, title_of

QUESTIONS = Path(__file__).resolve().parent.parent / "seed" / "eval" / "retrieval_questions.json"
DEPTH = 20


@dataclass(frozen=True)
class Question:
    text: str
    relevant: frozenset[str]
    paraphrased: bool


@dataclass(frozen=True)
class Scores:
    recall_1: float
    recall_5: float
    mrr: float
    paraphrased_recall_1: float


def load_questions(path: Path) -> list[Question]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Question(r["question"], frozenset(r["relevant"]), bool(r["paraphrased"])) for r in rows]


def load_documents(articles: Path | None) -> list[tuple[str, str, bytes]]:
    """(filename, title, bytes) of the seed documents, or of the Markdown files in ``articles``."""
    if articles is None:
        return [(d.filename, d.title, d.data) for d in iter_seed_documents()]
    documents = []
    for path in sorted(articles.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        documents.append((path.name, title_of(text, path.stem), text.encode("utf-8")))
    return documents


def build_kb(
    data_dir: Path, documents: Sequence[tuple[str, str, bytes]], **vectors: object
) -> KnowledgeBase:
    settings = Settings(
        app=AppSettings(data_dir=data_dir, seed_on_start=False),
        vectors=VectorSettings(relevance_threshold=-1.0, **vectors),  # type: ignore[arg-type]
    )
    engine = create_db_engine(settings.database_url)
    init_schema(engine)
    kb = create_knowledge_base(settings, engine)
    started = time.perf_counter()
    for filename, title, data in documents:
        kb.ingest(filename, data, source="seed", title=title)
    chunks = kb.store.count()
    count = len(kb.list_documents())
    print(f"indexed {count} documents, {chunks} chunks in "
          f"{time.perf_counter() - started:.2f} s (first start)")
    return kb


def ranks(kb: KnowledgeBase, questions: Sequence[Question], mode: SearchMode) -> list[int | None]:
    found: list[int | None] = []
    for question in questions:
        slugs: list[str] = []
        for hit in kb.search(question.text, top_k=DEPTH, mode=mode):
            slug = Path(hit.filename).stem
            if slug not in slugs:
                slugs.append(slug)
        found.append(next((i + 1 for i, s in enumerate(slugs) if s in question.relevant), None))
    return found


def score(found: Sequence[int | None], questions: Sequence[Question]) -> Scores:
    n = len(found)
    paraphrased = [r for r, q in zip(found, questions, strict=True) if q.paraphrased]
    return Scores(
        recall_1=sum(r == 1 for r in found) / n,
        recall_5=sum(r is not None and r <= 5 for r in found) / n,
        mrr=sum(1 / r for r in found if r is not None) / n,
        paraphrased_recall_1=sum(r == 1 for r in paraphrased) / max(len(paraphrased), 1),
    )


def quality(kb: KnowledgeBase, questions: Sequence[Question]) -> None:
    print(f"\n{len(questions)} questions ({sum(q.paraphrased for q in questions)} paraphrased)")
    print(f"{'setting':<22} {'recall@1':>9} {'recall@5':>9} {'MRR':>7} {'para@1':>7}")
    runs: list[tuple[str, SearchMode, Fusion]] = [
        ("dense", SearchMode.DENSE, kb.fusion),
        ("keyword", SearchMode.KEYWORD, kb.fusion),
        *[(f"hybrid {f.value}", SearchMode.HYBRID, f) for f in Fusion],
    ]
    default = kb.fusion
    for label, mode, fusion in runs:
        kb.fusion = fusion
        s = score(ranks(kb, questions, mode), questions)
        print(f"{label:<22} {s.recall_1:>9.3f} {s.recall_5:>9.3f} {s.mrr:>7.3f} "
              f"{s.paraphrased_recall_1:>7.3f}")
    kb.fusion = default
    threshold_figures(kb, questions)


def threshold_figures(kb: KnowledgeBase, questions: Sequence[Question]) -> None:
    relevant, best_other = [], []
    for question in questions:
        hits = kb.search(question.text, top_k=DEPTH, mode=SearchMode.DENSE)
        scores = [h.dense_score for h in hits if Path(h.filename).stem in question.relevant]
        relevant.append(max(scores, default=0.0))
    for text in ("What is the capital of Australia?", "Explain quantum chromodynamics.",
                 "Recommend a good pasta recipe.", "Who won the 1998 football world cup?"):
        best_other.append(kb.search(text, top_k=1, mode=SearchMode.DENSE)[0].dense_score)
    q = statistics.quantiles(relevant, n=20, method="inclusive")
    print(f"\ndense score of best relevant chunk: min {min(relevant):.3f}, p5 {q[0]:.3f}, "
          f"median {statistics.median(relevant):.3f}; off-topic questions' best: "
          f"max {max(best_other):.3f}")


def pad_collection(kb: KnowledgeBase, target: int, seed: int = 7) -> None:
    """Add perturbed copies of the real chunks until the collection holds ``target``."""
    rng = np.random.default_rng(seed)
    points, _ = kb.store.client.scroll(
        kb.collection, limit=100_000, with_payload=True, with_vectors=["dense"]
    )
    base = np.asarray([p.vector["dense"] for p in points], dtype=np.float32)  # type: ignore[index]
    texts = [str((p.payload or {})["text"]) for p in points]
    missing, document_id = target - len(points), 1_000_000
    while missing > 0:
        n = min(missing, 1000)
        picks = rng.integers(0, len(points), n)
        dense = base[picks] + rng.normal(0, 0.04, (n, base.shape[1])).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        words = [texts[i].split() for i in picks]
        mixed = [" ".join(rng.permutation(w)[: max(20, len(w) // 2)]) for w in words]
        payloads = [{"title": "Synthetic", "filename": "synthetic.md", "scope": "global",
                     "page": None, "heading": None, "start": 0, "end": len(t), "text": t}
                    for t in mixed]
        kb.store.upsert(document_id, payloads, dense, [document_vector(t) for t in mixed])
        missing -= n
        document_id += 1


def latency(kb: KnowledgeBase, questions: Sequence[Question], chunks: int) -> None:
    pad_collection(kb, chunks)
    print(f"\nsearch latency at {kb.store.count()} chunks, local mode (query embedding included)")
    for mode in SearchMode:
        timings = []
        for round_ in range(3):
            for question in questions:
                started = time.perf_counter()
                kb.search(question.text, mode=mode)
                if round_:
                    timings.append((time.perf_counter() - started) * 1000)
        q = statistics.quantiles(timings, n=20, method="inclusive")
        print(f"{mode.value:<8} p50 {statistics.median(timings):6.1f} ms   p95 {q[18]:6.1f} ms")


def compare(kb: KnowledgeBase, questions: Sequence[Question], other_path: Path) -> None:
    other_file = other_path / "model.onnx" if other_path.is_dir() else other_path
    shipped, other = get_local_embedder(), LocalEmbedder(other_file)
    points, _ = kb.store.client.scroll(kb.collection, limit=100_000, with_payload=True)
    texts = [str((p.payload or {})["title"]) + "\n" + str((p.payload or {})["text"])
             for p in points]
    texts += [q.text for q in questions]
    cosine = (shipped.embed(texts) * other.embed(texts)).sum(axis=1)
    print(f"\n{other_file.name} vs shipped on {len(texts)} chunks+questions: mean cosine "
          f"{cosine.mean():.4f}, min {cosine.min():.4f}; {other_file.stat().st_size / 1e6:.1f} MB")
    modes = (SearchMode.DENSE, SearchMode.HYBRID)
    before = {mode: score(ranks(kb, questions, mode), questions) for mode in modes}
    kb.embedding._embedder = other  # type: ignore[attr-defined]  # bench-only swap
    kb.reindex()
    after = {mode: score(ranks(kb, questions, mode), questions) for mode in modes}
    n = len(questions)
    print(f"{'model':<16} {'mode':<7} {'top-1':>7} {'recall@1':>9} {'recall@5':>9} {'MRR':>7}")
    for name, scores in (("shipped int8", before), (other_file.name, after)):
        for mode, s in scores.items():
            print(f"{name:<16} {mode.value:<7} {round(s.recall_1 * n):>3}/{n:<3} "
                  f"{s.recall_1:>9.3f} {s.recall_5:>9.3f} {s.mrr:>7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--chunk-tokens", type=int, default=None)
    parser.add_argument(
        "--compare", type=Path, default=None, help="another .onnx export, or its folder"
    )
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--articles", type=Path, default=None, help="default: the seed documents")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    vectors = {} if args.chunk_tokens is None else {"chunk_tokens": args.chunk_tokens}
    with tempfile.TemporaryDirectory() as folder:
        kb = build_kb(Path(folder), load_documents(args.articles), **vectors)
        try:
            if args.compare is not None:
                compare(kb, questions, args.compare)
                return
            quality(kb, questions)
            latency(kb, questions, args.chunks)
        finally:
            kb.close()


if __name__ == "__main__":
    main()
