"""Scripted texts the scenarios use: the complaint an agent uploads, and the earlier part of
the long conversation the context-window scenario continues."""

from __future__ import annotations

COMPLAINT_TITLE = "Formal complaint about order ORD-10136"

_COMPLAINT_INTRO = """\
# Formal complaint about order ORD-10136

I am writing to ask for a full refund of $489.00 for order ORD-10136, and for the $24.95 express \
shipping charge, because the order arrived nine days late and damaged.

My name is Margaret Okafor and I have been a Trail Club member since 2021. This letter sets out \
what happened, what I paid and what I am asking Northwind Outfitters to do.

## The parties

- The customer: Margaret Okafor, 14 Alder Lane, Portland, Oregon.
- The retailer: Northwind Outfitters, online store and Portland flagship.
- The carrier: Cascade Parcel Express, which delivered the order.

## What I ordered and paid

| item | price |
|---|---|
| Summit 2 ultralight tent | $389.00 |
| Trail stove kit | $100.00 |
| Express shipping | $24.95 |
| Total charged on 2026-11-03 | $513.95 |
"""

_TIMELINE = [
    (
        "3 November 2026",
        "I placed the order with express shipping, promised for 6 November.",
        "The confirmation e-mail quoted express delivery in three working days and charged the "
        "express rate. I chose express on purpose because the trip was already booked.",
    ),
    (
        "6 November 2026",
        "The tracking page showed Delayed with no new delivery date.",
        "I checked the tracking page in the morning and again in the evening. Neither the page nor "
        "the carrier's own site gave a reason for the delay or a new estimate.",
    ),
    (
        "9 November 2026",
        "I called support and was told the parcel would come within two days.",
        "The agent, who gave her name as Priya, apologised and said the carrier had a backlog at "
        "the Tacoma depot. She promised a call back, which never came.",
    ),
    (
        "12 November 2026",
        "I wrote again; nobody answered my e-mail.",
        "My e-mail asked for either a firm delivery date or a cancellation with a refund. I "
        "received an automatic acknowledgement with a case number and nothing else.",
    ),
    (
        "15 November 2026",
        "The parcel arrived nine days late with its box crushed on one side.",
        "The driver left it on the porch without asking for a signature, although the order was "
        "over three hundred dollars and your terms say a signature is required.",
    ),
    (
        "16 November 2026",
        "I found a bent tent pole and a torn rain fly, and took photographs.",
        "I pitched the tent in the garden to check it before the trip. That is when the damage "
        "became clear, and I stopped at once so as not to make it worse.",
    ),
]

_DAMAGE = """\
## The damage

When I opened the box on 15 November the outer carton was crushed along one side and the tent \
bag was wet. Two of the three tent poles were bent beyond repair and the rain fly had a tear of \
about fifteen centimetres near the door zip. The stove kit was undamaged but its box had been \
opened and resealed with a different tape. I photographed everything before touching it and \
kept the carton, the tape and the packing slip. The tent cannot be used as it is: a bent pole \
will not hold the fly tight and the tear lets in rain. I bought it for a trip to the Olympic \
coast on 20 November, which I had to cancel, and I lost the $60.00 deposit on the campsite.
"""

_ASK = """\
## What I am asking for

1. A full refund of $489.00 for the tent and the stove kit, which I will return at your cost.
2. A refund of the $24.95 express shipping charge, since the order came nine days late.
3. Compensation of $60.00 for the campsite deposit I lost because of the delay.
4. A written answer within fourteen days, by 1 December 2026.

I have been a loyal customer for five years and I would like to keep shopping with Northwind \
Outfitters. I expect the late-delivery policy to be honoured: express parcels delivered late \
qualify for a refund of the express charge, and damaged goods for a full refund or a \
replacement. If I do not hear from you by 1 December 2026 I will dispute the charge with my \
card issuer.

Yours sincerely,

Margaret Okafor
"""


def complaint_markdown() -> str:
    """The complaint, long enough for three pages: letter, table, timeline and requests."""
    timeline = "\n".join(f"- {day}: {what}" for day, what, _ in _TIMELINE)
    detail = "\n\n".join(f"### {day}\n\n{what} {more}" for day, what, more in _TIMELINE)
    return (
        f"{_COMPLAINT_INTRO}\n## Timeline\n\n{timeline}\n\n## In detail\n\n{detail}\n\n"
        f"{_DAMAGE}\n{_ASK}"
    )


EARLIER_CONVERSATION: tuple[tuple[str, str], ...] = (
    (
        "user",
        "Hi, I'm planning a week of camping on the Oregon coast in March and I need to "
        "replace most of my gear. Can you help me put together a list?",
    ),
    (
        "assistant",
        "Of course! For a week on the Oregon coast in March you'll want a three-season "
        "tent with a full rain fly, a sleeping bag rated to about 20°F, an insulated sleeping "
        "pad, a waterproof shell jacket and trousers, a warm mid-layer, and a stove that copes "
        "with wind. Shall we go through them one at a time?",
    ),
    (
        "user",
        "Yes please. Start with the tent. I'll be on my own most nights but my sister may "
        "join for two nights, so something for two people that isn't too heavy.",
    ),
    (
        "assistant",
        "A two-person backpacking tent is the right size: the Summit 2 weighs 1.4 kg, "
        "has two doors and a full-coverage fly rated for heavy rain, and packs down small. The "
        "Ridge 2 is heavier at 2.1 kg but has a larger porch for wet gear. For a coastal trip in "
        "March I'd pick the Summit 2 and add its footprint to protect the floor.",
    ),
    (
        "user",
        "Great, the Summit 2 it is. What about a sleeping bag? I get cold easily at night, "
        "even in summer, and I've had a synthetic bag that got damp before.",
    ),
    (
        "assistant",
        "If you sleep cold, go a little warmer than the forecast: a bag rated to 15°F. "
        "Down is lighter and packs smaller, and our hydrophobic down keeps most of its loft when "
        "damp. The Ember 15 down bag has a water-resistant shell and a draft collar. Use a liner "
        "on the coldest nights for a few more degrees.",
    ),
    (
        "user",
        "OK. I also need a jacket. My old one leaks at the seams and the zip has broken. "
        "I want something that I can also wear around town in the winter.",
    ),
    (
        "assistant",
        "The Cascade shell jacket is fully seam-taped with a waterproof zip and pit "
        "vents, and it looks plain enough for town. Pair it with the Alpine down jacket as a "
        "mid-layer on cold evenings at camp. Both come with our lifetime repair service for zips "
        "and seams.",
    ),
    (
        "user",
        "I ordered the tent, the bag and both jackets last week as order ORD-10088. The "
        "tracking says it's out for delivery today. Will someone need to sign for it?",
    ),
    (
        "assistant",
        "Orders over $300 need a signature on delivery, so someone will need to be "
        "in. If you miss the driver, the carrier leaves a card and tries again the next working "
        "day, or you can collect the parcel from the depot with photo ID.",
    ),
    (
        "user",
        "It arrived, thanks! Everything looks good. How should I store the down sleeping "
        "bag when I'm not using it? I've heard that keeping it compressed is bad.",
    ),
    (
        "assistant",
        "You've heard right: store it loose in the large cotton storage sack it came "
        "with, somewhere cool and dry, never in its compression stuff sack. Air it out after each "
        "trip and wash it only when needed, with a down-specific wash.",
    ),
    (
        "user",
        "Perfect. Last thing about the trip: is there anything else you'd bring for rain "
        "on the coast that I haven't thought of?",
    ),
    (
        "assistant",
        "A few small things make a big difference: a lightweight tarp to cook and sit "
        "under, dry bags for your sleeping bag and spare clothes, gaiters, and a small microfibre "
        "towel to wipe down the tent. Pack a spare pair of socks in a dry bag just for sleeping.",
    ),
)
"""Seven exchanges from before the scenario's turns (about 1,100 tokens)."""
