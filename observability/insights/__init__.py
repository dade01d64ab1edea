"""Insights computed from the stored spans: A/B experiment results (``experiments``),
anomalies and budget alerts (``anomalies``, ``budgets``, ``alerts``), and recommendations with
their money (``recommendations``). Pure queries and statistics, no Streamlit.

Only the light definitions are imported here; the modules that need scipy and statsmodels are
imported where they are used, so importing the app's experiment code stays fast.
"""

from observability.insights.definitions import ExperimentSpec, Metric, StatsPolicy

__all__ = ["ExperimentSpec", "Metric", "StatsPolicy"]
