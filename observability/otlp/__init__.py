"""OTLP/HTTP trace requests decoded into rows of the trace store's ``spans`` table (``SpanRow``).

batch = decode_request(body, Encoding.PROTOBUF)   # or Encoding.JSON
batch.rows, batch.rejected, batch.problems
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
