"""Agent view actions in a real browser: open, claim, send, create ticket and resolve, each
timed from the click until its result is on the page (target: p95 ≤ 1 s on an idle machine).

The app runs on embedded defaults over a folder ``python -m seed`` filled, with one customer
conversation per try. Run ``python -m bench.bench_agent_view [--tries N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from bench import _agent_flow as flow
from bench._browser import CHROMIUM, CHROMIUM_FLAGS, running_app, seed_folder

ACTIONS = ("open", "claim", "send", "create ticket", "resolve")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tries", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    titles = [f"Try {n}: my order arrived damaged, box {n}" for n in range(args.tries)]
    times: dict[str, list[float]] = {action: [] for action in ACTIONS}
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        seed_folder(data_dir)
        flow.add_conversations(data_dir, titles)
        with running_app(data_dir=data_dir) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            flow.open_agent_view(page)
            for number, title in enumerate(titles):
                times["open"].append(flow.open_conversation(page, title))
                times["claim"].append(flow.claim(page))
                times["send"].append(flow.send(page, f"Reply {number}: a new one ships today."))
                times["create ticket"].append(
                    flow.create_ticket(page, f"Replace item {number}", "High")
                )
                times["resolve"].append(flow.resolve(page))
            browser.close()
    load = os.getloadavg()
    print(f"agent view in chromium, {args.tries} tries each (load average {load[0]:.1f}):")
    for action, seconds in times.items():
        print(
            f"  {action:<14} p50 {statistics.median(seconds):.2f} s"
            f"   p95 {percentile(seconds, 0.95):.2f} s   max {max(seconds):.2f} s"
        )


if __name__ == "__main__":
    main()
