"""What the demo customers write in the history: questions in their own words, by topic.

Only questions and read-only requests: the history never cancels an order or books a slot, so
the demo shop's orders and appointments stay as seeded for a live demo.
"""

from __future__ import annotations

import random

from seed.history_plan import Topic

POLICY = (
    "How long do I have to return a jacket?",
    "Do you ship to Canada, and who pays the customs fees?",
    "How long does a refund take to reach my card?",
    "What are your support hours?",
    "Can I use two promo codes on one order?",
    "What does the warranty cover on a tent?",
    "My card was declined at checkout, what can I do?",
    "Which payment methods do you take?",
    "How do I reset my password?",
    "How much is express shipping?",
    "What do I get with the Trail Club membership?",
    "How should I wash a down jacket?",
    "Is there free shipping over a certain amount?",
    "Can I change the address on an order I already placed?",
    "How do I delete my account and my data?",
    "Do gift cards expire?",
    "What sizes do your hiking boots come in?",
    "Can I return something I bought on sale?",
    "How do I get a zip repaired under warranty?",
    "Are agents around on weekends?",
)
APPOINTMENT = (
    "What appointments can I book at the store?",
    "How do I reschedule my fitting appointment?",
    "Are there any boot fitting slots this week?",
    "What time do appointment slots start?",
)
ORDER = (
    "Where is my order {order}?",
    "Has {order} shipped yet?",
    "When will {order} arrive?",
    "What's the status of order {order}?",
)
ESCALATION = (
    "Can I speak to a human agent please?",
    "This isn't helping, I'd like to talk to a person.",
    "Please escalate this to your support staff.",
)
AGENT_REPLY = (
    "Thanks for your patience — I've checked this for you and sorted it out. "
    "Let us know if anything else comes up."
)


def question(rng: random.Random, topic: Topic, orders: list[str]) -> str:
    """A customer's message on ``topic``, naming one of their own ``orders`` when it asks
    about one."""
    if topic is Topic.ORDER and orders:
        return rng.choice(ORDER).format(order=rng.choice(orders))
    if topic is Topic.APPOINTMENT:
        return rng.choice(APPOINTMENT)
    return rng.choice(POLICY)


def with_personal_data(rng: random.Random, text: str, name: str) -> str:
    """``text`` with an e-mail address, a phone number or a card number added, as customers
    type them (the engine redacts them before anything is stored or sent)."""
    first, _, last = name.lower().partition(" ")
    extras = (
        f"You can reach me at {first}.{last or 'demo'}@example.com.",
        f"My number is +1 415 555 0{rng.randint(100, 199)} if that helps.",
        "I paid with my card 4242 4242 4242 4242.",
    )
    return f"{text} {rng.choice(extras)}"
