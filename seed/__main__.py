"""``python -m seed``: create the schema if needed and load the demo data; safe to run again."""

from __future__ import annotations

import sys

from core.errors import ObservatoryError
from core.settings import redact_url
from seed.setup import prepare_demo


def main() -> int:
    try:
        summary = prepare_demo(progress=lambda message: print(message, flush=True))
    except ObservatoryError as exc:
        print(f"Seeding failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"Done: {redact_url(summary.database_url)} — added {summary.rows_added} rows and "
        f"{summary.documents_added} knowledge-base documents."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
