"""OTLP/HTTP trace requests decoded into SDK spans (``ReadableSpan``) for the trace store.

batch = decode_request(body, content_type="application/x-protobuf")   # or application/json
batch.spans, batch.rejected, batch.problems
encode_response(batch, Encoding.PROTOBUF)
"""

from observability.otlp.decode import (
    DecodedBatch,
    Encoding,
    OtlpDecodeError,
    decode_request,
    encode_response,
    encoding_of,
)

__all__ = [
    "DecodedBatch",
    "Encoding",
    "OtlpDecodeError",
    "decode_request",
    "encode_response",
    "encoding_of",
]
