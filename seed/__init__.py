"""Demo data for Support Observatory: ``python -m seed`` loads it (idempotently)."""
