"""Streamlit glue shared by the pages: cached resources, start-up, sidebar, error display."""
