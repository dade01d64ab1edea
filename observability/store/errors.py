"""The trace store's own exception."""


class TraceStoreError(RuntimeError):
    """The trace store cannot be opened or queried; the message says what to fix."""
