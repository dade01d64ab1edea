"""The eight demo scenarios: definitions as data, one driver, insights read from the spans.

for event in run_scenario(services, ScenarioKey.ORDER_STATUS):
    ...  # Step lines as they happen, then the ScenarioRun with its trace and insight
"""

from core.scenarios.definitions import SCENARIOS, Scenario, ScenarioKey
from core.scenarios.driver import (
    Fact,
    Insight,
    ScenarioEvent,
    ScenarioRun,
    Step,
    run_scenario,
)

__all__ = [
    "SCENARIOS",
    "Fact",
    "Insight",
    "Scenario",
    "ScenarioEvent",
    "ScenarioKey",
    "ScenarioRun",
    "Step",
    "run_scenario",
]
