"""all-MiniLM-L6-v2 run offline: the ONNX file in ``core/kb/model/``, onnxruntime and tokenizers.

No torch and no download at run time. ``core/kb/export_model.py`` made the ONNX file; mean pooling
and L2 normalisation are done here in numpy. Texts longer than the model's 256-token window are
embedded window by window and the windows' vectors averaged, so no part of a chunk is ignored.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import onnxruntime as ort
from tokenizers import Encoding, Tokenizer

from core.errors import KnowledgeBaseError
from core.kb.exact_int8 import load_exact_int8

MODEL_DIR: Final = Path(__file__).resolve().parent / "model"
MODEL_FILE: Final = "model_int8.onnx"
"""MatMul weights in int8 per channel: mean cosine 0.994 with fp32, same top-1 (see README).
Its integer products are done in fp32 (``core.kb.exact_int8``): the same vectors on every CPU."""
MODEL_NAME: Final = "all-MiniLM-L6-v2"
DIMENSION: Final = 384
MAX_TOKENS: Final = 256
"""The window the model was trained on (sentence-transformers' ``max_seq_length``)."""
BATCH_SIZE: Final = 32


class LocalEmbedder:
    """Sentence vectors from the shipped ONNX model; safe to share between threads."""

    model_name: Final = MODEL_NAME
    dimension: Final = DIMENSION

    def __init__(
        self,
        model_file: Path = MODEL_DIR / MODEL_FILE,
        tokenizer_file: Path = MODEL_DIR / "tokenizer.json",
    ) -> None:
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
            options = ort.SessionOptions()
            options.log_severity_level = 3
            # Idle worker threads sleep instead of spinning: on a shared machine spinning
            # burns the CPU the app's other threads (and the first start's progress) need.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(
                load_exact_int8(model_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime and tokenizers raise bare Exceptions
            raise KnowledgeBaseError(
                f"The embedding model {model_file} could not be loaded; "
                "reinstall the app or run core/kb/export_model.py."
            ) from exc
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS, stride=0)
        self._counter = Tokenizer.from_str(self._tokenizer.to_str())
        self._counter.no_truncation()
        self._counter.no_padding()

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` (without the [CLS]/[SEP] markers)."""
        return len(self._counter.encode(text, add_special_tokens=False).ids)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """The character span of every word piece in ``text``, in order."""
        return list(self._counter.encode(text, add_special_tokens=False).offsets)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row of 384 numbers per text."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        windows: list[Encoding] = []
        owner: list[int] = []
        for index, encoding in enumerate(self._tokenizer.encode_batch(list(texts))):
            for window in (encoding, *encoding.overflowing):
                windows.append(window)
                owner.append(index)
        pooled = self._pool_windows(windows)
        sums = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        np.add.at(sums, np.asarray(owner), pooled)
        return _normalise(sums)

    def embed_each(self, texts: Sequence[str]) -> np.ndarray:
        """As ``embed``, each text run on its own: the model quantises its activations with
        one scale per run, so a text embedded beside others gets a vector a little different
        (cosine about 0.99) from the one it gets alone. Slower, but a text's vector depends on
        the text only, as a question's does."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        return np.vstack([self.embed([text]) for text in texts])

    def _pool_windows(self, windows: list[Encoding]) -> np.ndarray:
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        pooled = np.zeros((len(windows), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            pooled[batch] = self._run([windows[i] for i in batch])
        return pooled

    def _run(self, batch: list[Encoding]) -> np.ndarray:
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(batch):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        return _normalise((hidden * weights).sum(axis=1) / weights.sum(axis=1))


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32)


_lock = threading.Lock()
_instance: LocalEmbedder | None = None


def get_local_embedder() -> LocalEmbedder:
    """The process-wide embedder, loaded once (about 0.3 s) on first use."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = LocalEmbedder()
        return _instance
