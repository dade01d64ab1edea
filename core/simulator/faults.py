"""The simulator's faults are the app's: ``core.faults`` (re-exported here for its callers)."""

from core.faults import Fault, FaultKind, FaultOutcome, FaultPlan, PendingFault

__all__ = ["Fault", "FaultKind", "FaultOutcome", "FaultPlan", "PendingFault"]
