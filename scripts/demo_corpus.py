"""The words of the demo dataset: people, agents, rooms and the chat templates they talk in.

Used by ``scripts/make_demo_dataset.py`` only (the package ships the generated result, not these templates).
Each topic has exchanges: a user's question template and the agent's answer templates, filled from the same
slot values so an answer fits its question. Paraphrase pairs are written by hand (two wordings of one meaning);
duplicates are planted by the generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

USERS: list[tuple[str, str, str]] = [  # (name, username, city)
    ("Maya Chen", "mayac", "Lisbon"),
    ("Tom Okafor", "tokafor", "Manchester"),
    ("Priya Nair", "priya.n", "Bangalore"),
    ("Lukas Weber", "lweber", "Hamburg"),
    ("Sofia Rossi", "sofiar", "Turin"),
    ("Diego Alvarez", "dalvarez", "Austin"),
    ("Hana Sato", "hanasato", "Osaka"),
    ("Omar Haddad", "ohaddad", "Montreal"),
    ("Emma Johansson", "emmaj", "Gothenburg"),
    ("Ben Carter", "bencarter", "Denver"),
]

#: (key, display name, bio). Nova is the agent whose memories come from a second embedding model.
AGENTS: list[tuple[str, str, str]] = [
    ("eliza", "Eliza", "Helpful generalist: support desk, code questions and trip planning."),
    ("sage", "Sage", "Warm lifestyle coach for cooking, gardening and fitness."),
    ("marlowe", "Marlowe", "Cautious markets assistant; never gives financial advice."),
    ("echo", "Echo", "Music and language tutor with a playful tone."),
    ("nova", "Nova", "Film, book and DIY companion (migrated from another embedding model)."),
]

OPENERS = [
    "hey {agent}!",
    "hi {agent}, got a minute?",
    "morning {agent}",
    "quick question for you {agent}",
    "hello again",
    "{agent} you around?",
    "ok I'm back",
    "evening! one more thing",
]
USER_CLOSERS = [
    "thanks, that helps!",
    "perfect, will try that tonight",
    "appreciate it",
    "makes sense, thank you",
    "great, that's exactly what I needed",
    "ok cool, I'll report back",
    "thank you so much!",
    "got it 👍",
]
AGENT_CLOSERS = [
    "Happy to help, {user}!",
    "Let me know how it goes.",
    "Anytime — ping me if it doesn't work.",
    "Good luck, {user}! Tell me how it turns out.",
    "You're welcome. I'll remember that for next time.",
]


@dataclass
class Topic:
    """One room's subject: where it lives, what its people say."""

    key: str
    agent: str
    room_name: str
    source: str
    slots: dict[str, list[str]]
    exchanges: list[tuple[str, list[str]]]
    facts: list[str]
    paraphrases: list[tuple[str, str]]
    goals: list[tuple[str, str, list[str]]] = field(default_factory=list)
    #: Exchanges used only in the last weeks (planted topic drift), with the day they start (0..89).
    late_exchanges: list[tuple[str, list[str]]] = field(default_factory=list)
    late_from_day: int = 70


TOPICS: list[Topic] = [
    Topic(
        key="customer_support",
        agent="eliza",
        room_name="Acme Cloud support",
        source="direct",
        slots={
            "plan": ["Starter", "Team", "Business", "Enterprise"],
            "feature": ["SSO", "audit logs", "custom domains", "daily backups", "API keys"],
            "month": ["March", "April", "May"],
            "amount": ["$49", "$120", "$18.50", "$230"],
            "browser": ["Chrome", "Firefox", "Safari", "Edge"],
        },
        exchanges=[
            (
                "I was charged {amount} twice in {month}, can you check?",
                [
                    "I see two charges of {amount} in {month}; the second one was a failed retry and will be refunded within 5 business days.",
                    "Sorry about that! The duplicate {amount} charge from {month} is being reversed — you'll see it in 3-5 days.",
                ],
            ),
            (
                "how do I upgrade from {plan} to a bigger plan?",
                [
                    "Go to Settings → Billing → Change plan. Upgrades from {plan} are prorated, so you only pay the difference.",
                    "You can upgrade from {plan} any time under Billing; the price difference is prorated for the rest of the month.",
                ],
            ),
            (
                "does the {plan} plan include {feature}?",
                [
                    "{feature} is included from the Business plan up; on {plan} you can add it for a small monthly fee.",
                    "Not on {plan}, I'm afraid — {feature} comes with Business and Enterprise.",
                ],
            ),
            (
                "the dashboard won't load in {browser}, just a spinner",
                [
                    "Could you clear the cache for our site in {browser} and disable extensions? An old service worker is the usual culprit.",
                    "That spinner in {browser} is usually a blocked script. Try a private window; if it loads there, an extension is interfering.",
                ],
            ),
            (
                "I can't log in, it says my password is wrong but I just reset it",
                [
                    "Reset links expire after 30 minutes and only the newest one works. I've sent a fresh link — use that one.",
                    "It can take a minute for a reset to apply everywhere. Please try again, and make sure caps lock is off.",
                ],
            ),
            (
                "how do I enable {feature} for my team?",
                [
                    "Admins can turn on {feature} under Settings → Security. Members get an email once it's active.",
                    "Open the admin console, pick Security, and switch on {feature}. It applies to everyone on the workspace.",
                ],
            ),
            (
                "can I get an invoice with our VAT number on it?",
                [
                    "Yes — add the VAT number under Billing → Company details and every new invoice will show it. I can reissue {month}'s too.",
                ],
            ),
            (
                "please cancel my subscription at the end of the month",
                [
                    "Done: your {plan} plan stays active until the end of the billing period and won't renew. Your data is kept for 30 days.",
                    "I've scheduled the cancellation. You keep {plan} features until the period ends, and can export everything before then.",
                ],
            ),
        ],
        late_exchanges=[
            (
                "is the API down? we're getting 502 errors since this morning",
                [
                    "Yes, we're investigating elevated 502s in the EU region. Follow the status page for updates — sorry for the trouble.",
                    "There's an ongoing incident affecting the API gateway. Engineers are on it; retries with backoff should get through.",
                ],
            ),
            (
                "our webhooks stopped firing during the outage, will they be replayed?",
                [
                    "Webhooks queued during the incident are being replayed now, oldest first. You may see a few duplicates — dedupe by event id.",
                ],
            ),
            (
                "will we get a credit for the downtime?",
                [
                    "Yes: the outage breached our SLA, so a service credit will appear on your next {plan} invoice automatically.",
                ],
            ),
        ],
        late_from_day=74,
        facts=[
            "{user} is on the {plan} plan and pays monthly",
            "{user} administers the team workspace and needs {feature}",
            "{user} prefers invoices by email with the VAT number",
            "{user} uses {browser} at work",
        ],
        paraphrases=[
            (
                "I forgot my password and the reset email never arrives",
                "the password reset mail isn't showing up in my inbox, I can't get back into my account",
            ),
            (
                "why was my card charged two times this month?",
                "I see a double payment on my credit card statement for this month",
            ),
            (
                "how can I export all my data before I close the account?",
                "before cancelling I want to download everything we have stored with you",
            ),
        ],
        goals=[
            (
                "Resolve billing disputes",
                "Refund duplicate charges and explain proration.",
                ["Identify the duplicate charge", "Issue the refund", "Confirm with the customer"],
            ),
            (
                "Keep customers informed during the outage",
                "Post updates and offer SLA credits.",
                ["Link the status page", "Explain webhook replay", "Apply SLA credits"],
            ),
        ],
    ),
    Topic(
        key="programming_help",
        agent="eliza",
        room_name="#python-help",
        source="discord",
        slots={
            "lib": ["pandas", "requests", "asyncio", "numpy", "FastAPI", "SQLAlchemy"],
            "error": ["KeyError", "TypeError", "IndexError", "AttributeError", "RecursionError"],
            "thing": ["a list of dicts", "a CSV file", "a JSON response", "a generator", "a nested dict"],
            "tool": ["pytest", "mypy", "ruff", "pip", "venv", "Docker"],
        },
        exchanges=[
            (
                "getting a {error} when I loop over {thing}, any idea?",
                [
                    "A {error} there usually means one item doesn't have the shape you expect. Print the offending item inside the loop, or use .get() with a default.",
                    "Wrap the loop body in try/except {error} and log the item — one entry in {thing} is probably different from the others.",
                ],
            ),
            (
                "what's the fastest way to read {thing} with {lib}?",
                [
                    "With {lib}, read it in one call and avoid Python-level loops; vectorised operations are 10-100x faster.",
                    "If it's large, stream it: {lib} can process {thing} in chunks so memory stays flat.",
                ],
            ),
            (
                "how do I set up {tool} in my project?",
                [
                    "Add {tool} to your dev dependencies and put its config in pyproject.toml, so everyone runs the same settings.",
                    "Install {tool} into the project's virtualenv (not globally) and wire it into CI so it runs on every push.",
                ],
            ),
            (
                "my {lib} code works locally but fails in Docker",
                [
                    "Check the Python and {lib} versions inside the image — pin them in requirements so local and Docker match.",
                    "Usually a missing system library or a different {lib} version. Compare `pip freeze` locally and in the container.",
                ],
            ),
            (
                "should I use asyncio or threads for calling an API 500 times?",
                [
                    "For I/O-bound calls asyncio with a semaphore (say 20 at once) is simplest and fastest; threads work too with a pool.",
                ],
            ),
            (
                "how do I write a test for a function that calls {lib}?",
                [
                    "Separate the logic from the I/O: test the pure part directly, and run the {lib} part against a real local instance with {tool}.",
                    "Use {tool} fixtures to set up real inputs; keep the function small so the {lib} call is easy to exercise.",
                ],
            ),
            (
                "list comprehension vs map, which is more pythonic?",
                [
                    "List comprehensions are usually clearer; map is fine when you already have a named function.",
                ],
            ),
        ],
        facts=[
            "{user} is learning {lib} for a data project",
            "{user} runs tests with {tool}",
            "{user} deploys with Docker on a small VPS",
        ],
        paraphrases=[
            (
                "how do I remove duplicate rows from a pandas dataframe?",
                "what's the way to drop repeated rows in a pandas df?",
            ),
            (
                "my virtual environment isn't picking up the packages I installed",
                "pip installed the library but python says module not found inside my venv",
            ),
            (
                "how can I make my python script run faster on a big loop?",
                "my for loop over a million items is really slow in python, how do I speed it up?",
            ),
        ],
        goals=[
            (
                "Teach debugging habits",
                "Show users how to read tracebacks.",
                ["Explain reading a traceback bottom-up", "Introduce a debugger", "Suggest logging"],
            ),
        ],
    ),
    Topic(
        key="travel",
        agent="eliza",
        room_name="Trip planning",
        source="telegram",
        slots={
            "city": ["Kyoto", "Lisbon", "Reykjavik", "Mexico City", "Hanoi", "Vienna", "Cape Town"],
            "season": ["spring", "summer", "autumn", "winter"],
            "days": ["three", "five", "seven", "ten"],
            "budget": ["tight", "moderate", "generous"],
        },
        exchanges=[
            (
                "what's the best time of year to visit {city}?",
                [
                    "{city} is lovely in {season}: fewer crowds and mild weather. Book rooms early if there's a festival on.",
                    "I'd go to {city} in {season} — prices drop and the weather is still good for walking.",
                ],
            ),
            (
                "I have {days} days in {city}, what should I not miss?",
                [
                    "With {days} days in {city}, spend one on the old town on foot, one on a day trip out, and leave an afternoon unplanned.",
                    "For {days} days: the main museums early in the morning, a food market for lunch, and sunset from the highest viewpoint.",
                ],
            ),
            (
                "is {city} expensive on a {budget} budget?",
                [
                    "On a {budget} budget {city} works if you stay outside the centre and eat where locals eat.",
                    "{city} can be done on a {budget} budget — public transport passes and set lunches keep costs down.",
                ],
            ),
            (
                "do I need a visa for {city}?",
                [
                    "It depends on your passport; check the official embassy site, and make sure it's valid six months beyond your return.",
                ],
            ),
            (
                "what should I pack for {city} in {season}?",
                [
                    "Layers and a light rain jacket for {city} in {season}; comfortable shoes matter more than anything.",
                    "Pack for changeable weather in {season}: a warm layer, a waterproof, and a power adapter.",
                ],
            ),
            (
                "train or flight between {city} and the next stop?",
                [
                    "If the train is under five hours, take it — city centre to city centre usually beats flying.",
                ],
            ),
        ],
        facts=[
            "{user} is planning a trip to {city} in {season}",
            "{user} travels on a {budget} budget",
            "{user} prefers trains over flights",
        ],
        paraphrases=[
            (
                "what are cheap ways to get from the airport to the city centre?",
                "how do I get downtown from the airport without paying for a taxi?",
            ),
            (
                "I'm scared of flying, any tips for a long-haul flight?",
                "long flights give me anxiety, how do I get through twelve hours in the air?",
            ),
        ],
        goals=[
            (
                "Plan Maya's autumn trip",
                "An itinerary within budget.",
                ["Pick dates", "Book trains", "Shortlist places to stay"],
            ),
        ],
    ),
    Topic(
        key="cooking",
        agent="sage",
        room_name="Kitchen table",
        source="discord",
        slots={
            "food": ["chicken thighs", "salmon", "tofu", "a ribeye steak", "sweet potatoes", "chickpeas", "mushrooms"],
            "method": ["roast", "pan-fry", "grill", "braise", "air-fry"],
            "time": ["20 minutes", "35 minutes", "an hour", "12 minutes"],
            "herb": ["thyme", "rosemary", "coriander", "basil", "smoked paprika"],
            "dish": ["risotto", "dal", "shakshuka", "carbonara", "ramen", "banana bread"],
        },
        exchanges=[
            (
                "how long should I {method} {food}?",
                [
                    "{method} {food} for about {time}, then check: the texture tells you more than the clock.",
                    "Roughly {time} if you {method} {food} — let it rest a few minutes before cutting.",
                ],
            ),
            (
                "what goes well with {food}? I have {herb} in the cupboard",
                [
                    "{herb} is great with {food}: add it early with garlic and finish with lemon.",
                    "Try {food} with {herb}, a little honey and chilli — sweet, smoky and quick.",
                ],
            ),
            (
                "my {dish} always turns out bland, what am I missing?",
                [
                    "Bland {dish} is almost always salt and acid: season in layers and finish with a squeeze of lemon or a splash of vinegar.",
                    "Toast your spices, salt as you go and add something sour at the end — {dish} will wake up.",
                ],
            ),
            (
                "can I make {dish} ahead for a dinner party?",
                [
                    "{dish} reheats well; make it the day before and loosen it with a little water when warming.",
                    "Make the base of the {dish} ahead and finish it just before serving so it stays fresh.",
                ],
            ),
            (
                "any vegetarian swap for {food} in a stir fry?",
                [
                    "Pressed tofu or king oyster mushrooms take the place of {food} nicely; sear them hard first.",
                ],
            ),
            (
                "how do I stop {food} sticking to the pan?",
                [
                    "Heat the pan properly before the oil goes in, pat {food} dry, and don't move it until it releases by itself.",
                ],
            ),
            (
                "what's a quick weeknight dinner with {food}?",
                [
                    "Sheet-pan {food} with vegetables and {herb}: {time} in a hot oven and one tray to wash.",
                    "A quick {food} stir-fry with rice — under half an hour, and leftovers make lunch.",
                ],
            ),
        ],
        facts=[
            "{user} is vegetarian on weekdays",
            "{user} loves {dish} and cooks it often",
            "{user} has a cast-iron skillet and an air fryer",
            "{user} is allergic to peanuts",
        ],
        paraphrases=[
            (
                "how long do I let a steak rest after grilling it?",
                "after taking the steak off the grill, how many minutes should it sit before slicing?",
            ),
            (
                "my garlic keeps burning and tasting bitter, what am I doing wrong?",
                "why does my garlic go black and bitter in the pan every time?",
            ),
            (
                "how do I keep my sourdough starter alive while I'm on holiday?",
                "I'm away for two weeks, what do I do with my sourdough starter so it doesn't die?",
            ),
        ],
        goals=[
            (
                "Plan a vegetarian week with Maya",
                "Five weekday dinners without meat.",
                ["Ask about allergies", "Suggest five dinners", "Write a shopping list"],
            ),
        ],
    ),
    Topic(
        key="gardening",
        agent="sage",
        room_name="Allotment chat",
        source="telegram",
        slots={
            "plant": ["tomatoes", "basil", "courgettes", "strawberries", "lavender", "chillies", "roses"],
            "pest": ["aphids", "slugs", "whitefly", "spider mites", "caterpillars"],
            "month": ["March", "April", "May", "June", "September"],
            "soil": ["clay", "sandy", "chalky", "loamy"],
        },
        exchanges=[
            (
                "the leaves on my {plant} are turning yellow",
                [
                    "Yellow lower leaves on {plant} usually mean overwatering or a nitrogen shortage; let the soil dry a little and feed weekly.",
                    "Check the roots first — soggy soil makes {plant} yellow fast. Water in the morning and only when the top inch is dry.",
                ],
            ),
            (
                "how do I get rid of {pest} without chemicals?",
                [
                    "For {pest}, a strong spray of water and encouraging ladybirds works; companion plants like marigolds help too.",
                    "Pick {pest} off by hand in the evening and use a mild soap spray; it's tedious but it works.",
                ],
            ),
            (
                "when should I plant {plant} outside?",
                [
                    "{plant} can go out after the last frost — around {month} in most places. Harden them off for a week first.",
                    "Wait until {month} and night temperatures above 10°C before planting {plant} outdoors.",
                ],
            ),
            (
                "my soil is {soil}, what grows well in it?",
                [
                    "{soil} soil suits more than people think; dig in compost every autumn and most vegetables will be happy.",
                    "In {soil} soil, go for plants that like it and improve it gradually with mulch.",
                ],
            ),
            (
                "how often should I water {plant} in a heatwave?",
                [
                    "In a heatwave water {plant} deeply every morning rather than a sprinkle twice a day, and mulch to keep moisture in.",
                ],
            ),
            (
                "can I grow {plant} on a balcony?",
                [
                    "Yes — {plant} do fine in big pots on a sunny balcony; use a good compost and feed them every two weeks.",
                ],
            ),
        ],
        facts=[
            "{user} has an allotment with {soil} soil",
            "{user} grows {plant} on a south-facing balcony",
            "{user} is fighting {pest} this year",
        ],
        paraphrases=[
            (
                "slugs are eating all my lettuce seedlings overnight",
                "every morning my young lettuces have been chewed to nothing by slugs",
            ),
            (
                "what's the easiest vegetable for a complete beginner to grow?",
                "I've never grown anything, which veg is hardest to kill?",
            ),
        ],
        goals=[
            (
                "Save Tom's tomato harvest",
                "Diagnose the yellow leaves.",
                ["Ask about watering", "Check for blight", "Suggest a feed"],
            ),
        ],
    ),
    Topic(
        key="fitness",
        agent="sage",
        room_name="Morning run club",
        source="discord",
        slots={
            "distance": ["5k", "10k", "half marathon", "marathon"],
            "weeks": ["six", "eight", "twelve", "sixteen"],
            "pain": ["shin splints", "a sore knee", "tight calves", "a stitch", "plantar fasciitis"],
            "exercise": ["squats", "lunges", "planks", "deadlifts", "hill sprints"],
        },
        exchanges=[
            (
                "I want to run a {distance} in {weeks} weeks, is that realistic?",
                [
                    "{weeks} weeks is enough for a {distance} if you build up gradually — add no more than 10% per week.",
                    "Realistic, yes: three runs a week, one of them long, and a rest week every fourth week gets you to the {distance}.",
                ],
            ),
            (
                "I keep getting {pain} after runs",
                [
                    "{pain} often comes from doing too much too soon. Cut mileage for a week and add strength work like {exercise}.",
                    "Check your shoes and cadence; {pain} eases with shorter strides and easier runs. See a physio if it lasts.",
                ],
            ),
            (
                "are {exercise} good for runners?",
                [
                    "{exercise} are great for runners — twice a week builds the strength that prevents injuries.",
                ],
            ),
            (
                "what should I eat before a morning {distance}?",
                [
                    "Something light with carbs 60-90 minutes before: toast with honey or a banana, plus water.",
                    "Keep it simple before a {distance}: oats or a banana, nothing new on race day.",
                ],
            ),
            (
                "how do I stay motivated to run when it's cold and dark?",
                [
                    "Lay your kit out the night before and run with someone — it's much harder to skip a run when a friend is waiting.",
                ],
            ),
        ],
        facts=[
            "{user} is training for a {distance}",
            "{user} had {pain} last year",
            "{user} runs before work three times a week",
        ],
        paraphrases=[
            (
                "how many rest days a week should a beginner runner take?",
                "as a new runner, how often should I take a day off from running?",
            ),
            (
                "my knees hurt going downhill on long runs",
                "running down hills makes my knees ache after a few kilometres",
            ),
        ],
        goals=[
            (
                "Get Diego to a 10k",
                "A 12-week plan.",
                ["Agree on a schedule", "Add strength sessions", "Pick a race"],
            ),
        ],
    ),
    Topic(
        key="crypto_trading",
        agent="marlowe",
        room_name="Crypto desk",
        source="telegram",
        slots={
            "coin": ["BTC", "ETH", "SOL", "ADA", "DOGE", "LINK"],
            "pct": ["8%", "12%", "20%", "35%"],
            "exchange": ["Kraken", "Coinbase", "Binance", "Bitstamp"],
            "order": ["stop-loss", "limit order", "trailing stop", "take-profit"],
        },
        exchanges=[
            (
                "{coin} just dropped {pct}, should I buy the dip?",
                [
                    "I can't give financial advice, but a {pct} drop in {coin} is normal volatility. Decide your position size before you buy.",
                    "Dips in {coin} can keep dipping. If you buy, use a size you can hold through another {pct} fall.",
                ],
            ),
            (
                "how do I set a {order} on {exchange}?",
                [
                    "On {exchange}, open the trade panel, choose {order} as the order type, and set the trigger price before confirming.",
                    "Pick the pair, switch the order type to {order}, and double-check the trigger — {exchange} fills it at market once hit.",
                ],
            ),
            (
                "is it safe to keep my {coin} on {exchange}?",
                [
                    "Exchanges can be hacked or freeze withdrawals; for long-term holdings a hardware wallet you control is safer.",
                    "Keep only what you trade on {exchange}; move long-term {coin} to self-custody and back up the seed phrase offline.",
                ],
            ),
            (
                "what does the funding rate on {coin} perps mean?",
                [
                    "A positive funding rate means longs pay shorts to keep the perp near spot — it signals crowded long positioning on {coin}.",
                ],
            ),
            (
                "how are crypto gains taxed?",
                [
                    "In most countries each sale or swap is a taxable event; keep a record of every trade — I'm not a tax adviser though.",
                ],
            ),
            (
                "{coin} gas fees are crazy today, why?",
                [
                    "Fees spike when the network is congested — a popular mint or a market crash. Waiting a few hours usually helps.",
                ],
            ),
        ],
        late_exchanges=[
            (
                "what happens to {coin} price after the ETF approval?",
                [
                    "ETF flows add steady demand, but a lot is priced in before approval — expect volatility either way.",
                ],
            ),
            (
                "are the ETF inflows slowing down this week?",
                [
                    "Inflows were lower this week than last; one week is noise, so watch the monthly trend.",
                ],
            ),
        ],
        late_from_day=68,
        facts=[
            "{user} holds mostly {coin} and trades on {exchange}",
            "{user} always uses a {order}",
            "{user} keeps long-term coins on a hardware wallet",
        ],
        paraphrases=[
            (
                "I lost the seed phrase for my wallet, can I recover my coins?",
                "my recovery words are gone, is there any way to get back into my crypto wallet?",
            ),
            (
                "is it too late to buy bitcoin now?",
                "have I missed the boat on bitcoin at this price?",
            ),
            (
                "someone on telegram offered to double my ETH if I send it first",
                "a stranger DMed me promising to double any ether I transfer to him, is it legit?",
            ),
        ],
        goals=[
            (
                "Teach risk management",
                "Position sizing before entries.",
                ["Explain position sizing", "Set a stop-loss together", "Warn about leverage"],
            ),
        ],
    ),
    Topic(
        key="personal_finance",
        agent="marlowe",
        room_name="Budget buddies",
        source="discord",
        slots={
            "expense": ["rent", "groceries", "eating out", "subscriptions", "car payments"],
            "goal": ["an emergency fund", "a house deposit", "a new laptop", "a wedding"],
            "amount": ["$300", "$500", "$1,200", "$50"],
        },
        exchanges=[
            (
                "I spend way too much on {expense}, how do I cut back?",
                [
                    "Track {expense} for a month first, then set a weekly cap; seeing the number is half the battle.",
                    "Move the {expense} money to a separate account on payday and spend only from that.",
                ],
            ),
            (
                "how do I save {amount} a month for {goal}?",
                [
                    "Automate it: transfer {amount} to a savings account the day you're paid, so {goal} grows before you can spend it.",
                    "Break {goal} into monthly chunks of {amount} and pay yourself first.",
                ],
            ),
            (
                "should I pay off debt or build {goal} first?",
                [
                    "A small emergency buffer first, then the highest-interest debt; after that, {goal}. Not financial advice, just the usual order.",
                ],
            ),
            (
                "is the 50/30/20 budget any good?",
                [
                    "It's a good starting point: 50% needs, 30% wants, 20% savings. Adjust if {expense} eats more than half.",
                ],
            ),
        ],
        facts=[
            "{user} is saving for {goal}",
            "{user} wants to spend less on {expense}",
        ],
        paraphrases=[
            (
                "how big should my emergency fund be?",
                "how many months of expenses should I keep aside for emergencies?",
            ),
        ],
        goals=[
            (
                "Help Sofia build an emergency fund",
                "Three months of expenses.",
                ["Estimate monthly costs", "Automate savings", "Check in monthly"],
            ),
        ],
    ),
    Topic(
        key="music",
        agent="echo",
        room_name="Band practice",
        source="discord",
        slots={
            "instrument": ["guitar", "piano", "bass", "drums", "ukulele"],
            "chord": ["F major", "B minor", "barre chords", "G7", "a C major scale"],
            "artist": ["Radiohead", "Fleetwood Mac", "Nina Simone", "Daft Punk", "Hozier"],
            "minutes": ["15 minutes", "half an hour", "an hour"],
        },
        exchanges=[
            (
                "I can't get {chord} to sound clean on {instrument}",
                [
                    "{chord} takes weeks for everyone. Practise the shape slowly for {minutes} a day and press just behind the fret.",
                    "Try it one string at a time to find the muted note — it's usually the finger angle on {chord}.",
                ],
            ),
            (
                "what's a good {artist} song for a beginner on {instrument}?",
                [
                    "Plenty of {artist} songs use four chords; start with a slow one and learn the riff before the solo.",
                    "Pick a {artist} song you love — motivation beats difficulty. Slow it down to 70% speed first.",
                ],
            ),
            (
                "how long should I practise {instrument} every day?",
                [
                    "{minutes} of focused practice beats two unfocused hours; warm up, work on one hard thing, then play for fun.",
                ],
            ),
            (
                "how do I learn to play by ear?",
                [
                    "Start with simple melodies you know, find the first note, and sing before you play — your ear improves quickly.",
                ],
            ),
            (
                "my band keeps speeding up during songs",
                [
                    "Practise with a click at a slow tempo, and let the drummer lead — record rehearsals so everyone hears the drift.",
                ],
            ),
        ],
        facts=[
            "{user} plays {instrument} in a weekend band",
            "{user} is a big {artist} fan",
        ],
        paraphrases=[
            (
                "my fingertips really hurt after practising guitar",
                "playing guitar makes the tips of my fingers sore, is that normal?",
            ),
            (
                "how do I tune my guitar without a tuner?",
                "I don't have a tuner app, how can I get my guitar in tune?",
            ),
        ],
        goals=[
            (
                "Get Hana gig-ready",
                "Three songs for the open mic.",
                ["Choose songs", "Practise transitions", "Record a run-through"],
            ),
        ],
    ),
    Topic(
        key="language_learning",
        agent="echo",
        room_name="Spanish practice",
        source="telegram",
        slots={
            "word": ["ser and estar", "por and para", "the subjunctive", "the preterite", "reflexive verbs"],
            "level": ["A1", "A2", "B1", "B2"],
            "media": ["podcasts", "Netflix series", "graded readers", "YouTube channels"],
            "fix": [
                "Yo soy cansado hoy|Estoy cansado hoy — estar for temporary states",
                "Fui a la playa por relajarme|Fui a la playa para relajarme — para for purpose",
                "Me gusta los perros|Me gustan los perros — the verb agrees with what is liked",
                "Ayer voy al cine|Ayer fui al cine — a finished past action takes the preterite",
                "Espero que vienes mañana|Espero que vengas mañana — esperar que takes the subjunctive",
            ],
        },
        exchanges=[
            (
                "I always mix up {word}, help!",
                [
                    "Everyone mixes up {word}. Learn five example sentences by heart — patterns stick better than rules.",
                    "Here's a trick for {word}: write one sentence a day using each and I'll correct them.",
                ],
            ),
            (
                "what {media} do you recommend for {level} Spanish?",
                [
                    "At {level}, pick {media} made for learners first, then move to native content with subtitles.",
                    "For {level}, short {media} you can repeat are best; listen twice, then read the transcript.",
                ],
            ),
            (
                "how long until I'm conversational?",
                [
                    "With 30 minutes a day most people reach basic conversations in six to nine months — speaking early helps a lot.",
                ],
            ),
            (
                "¿puedes corregir esta frase? '{fix}'",
                [
                    "Casi: '{fix_2}'. ¡Muy bien por intentarlo!",
                    "Almost! '{fix_2}'. Keep writing sentences like this one.",
                ],
            ),
            (
                "what's the difference between {word} in one sentence?",
                [
                    "Short version for {word}: look at what the sentence is about, then check my two examples from last week.",
                ],
            ),
        ],
        facts=[
            "{user} is learning Spanish at {level} level",
            "{user} struggles with {word}",
        ],
        paraphrases=[
            (
                "I understand Spanish when I read it but I freeze when I have to speak",
                "reading in Spanish is fine for me, but speaking out loud makes my mind go blank",
            ),
        ],
        goals=[
            (
                "Prepare Omar for his trip to Mexico",
                "Travel Spanish.",
                ["Ordering food", "Asking directions", "Small talk"],
            ),
        ],
    ),
    Topic(
        key="movies_books",
        agent="nova",
        room_name="Film club",
        source="discord",
        slots={
            "film": ["Arrival", "Spirited Away", "Parasite", "The Godfather", "Dune", "Amélie"],
            "book": ["The Left Hand of Darkness", "Piranesi", "Project Hail Mary", "Circe", "The Remains of the Day"],
            "genre": ["sci-fi", "horror", "romcoms", "documentaries", "thrillers"],
        },
        exchanges=[
            (
                "just watched {film}, what should I see next?",
                [
                    "If {film} worked for you, try something by the same director, or a {genre} pick with a similar mood.",
                    "After {film}, I'd go for a slower, character-driven film — want a {genre} suggestion?",
                ],
            ),
            (
                "is {book} worth reading?",
                [
                    "{book} is one of my favourites — the first chapters are slow, but stick with it.",
                    "Yes, {book} rewards patience; it's best read in long sittings.",
                ],
            ),
            (
                "recommend me some {genre} for a rainy weekend",
                [
                    "For {genre}, start with a classic and then something recent — I can make a list of five.",
                ],
            ),
            (
                "was the ending of {film} supposed to be ambiguous?",
                [
                    "The ending of {film} is deliberately open; the director said the answer depends on what you think of the main character.",
                ],
            ),
        ],
        facts=[
            "{user} loves {genre}",
            "{user} is reading {book}",
        ],
        paraphrases=[
            (
                "can you suggest a film that will make me cry?",
                "I want a really sad movie to watch tonight, any ideas?",
            ),
        ],
        goals=[
            (
                "Build Emma's watchlist",
                "Ten films for winter.",
                ["Ask about favourite genres", "Suggest ten films"],
            ),
        ],
    ),
    Topic(
        key="home_diy",
        agent="nova",
        room_name="DIY corner",
        source="telegram",
        slots={
            "job": ["a leaking tap", "a squeaky door", "a wobbly shelf", "peeling paint", "a blocked drain"],
            "tool": ["a drill", "an adjustable spanner", "a stud finder", "a multimeter"],
            "room": ["bathroom", "kitchen", "hallway", "bedroom"],
        },
        exchanges=[
            (
                "how do I fix {job} in the {room}?",
                [
                    "For {job}, turn off what you need to, take a photo before you start, and work slowly; {tool} makes it easier.",
                    "{job} is a beginner job — about an hour with {tool} and the right replacement part.",
                ],
            ),
            (
                "do I need {tool} to hang shelves in the {room}?",
                [
                    "Yes, {tool} helps a lot — find the studs or use the right wall plugs for the wall type.",
                ],
            ),
            (
                "what paint finish should I use in the {room}?",
                [
                    "For a {room}, satin or eggshell wipes clean; matt hides flaws but marks easily.",
                ],
            ),
        ],
        facts=[
            "{user} is renovating the {room}",
            "{user} owns {tool}",
        ],
        paraphrases=[
            (
                "water keeps dripping from my kitchen tap even when it's off",
                "my kitchen faucet won't stop dripping when it's closed",
            ),
        ],
        goals=[
            (
                "Guide Ben's bathroom refresh",
                "Small fixes first.",
                ["Fix the tap", "Reseal the bath", "Repaint"],
            ),
        ],
    ),
]

#: Knowledge documents (ElizaOS ``documents``, chunked into ``fragments``): (agent, title, sentences).
DOCUMENTS: list[tuple[str, str, list[str]]] = [
    (
        "eliza",
        "Acme Cloud billing FAQ",
        [
            "Invoices are issued on the first day of each billing period.",
            "Upgrades are prorated: you pay only the difference for the rest of the period.",
            "Downgrades take effect at the start of the next billing period.",
            "Failed card payments are retried three times over seven days.",
            "A duplicate charge caused by a retry is refunded automatically within five business days.",
            "VAT numbers can be added under Billing, Company details, and appear on all new invoices.",
            "Cancelled workspaces keep their data for thirty days before deletion.",
            "Enterprise customers can pay by bank transfer on annual contracts.",
        ],
    ),
    (
        "eliza",
        "Password and sign-in guide",
        [
            "Password reset links expire after thirty minutes.",
            "Only the most recent reset link is valid.",
            "Single sign-on can be enforced by workspace admins on the Business plan and above.",
            "Accounts are locked for fifteen minutes after ten failed sign-in attempts.",
            "Two-factor authentication can use an authenticator app or a hardware key.",
            "Admins can revoke all sessions of a member from the security console.",
        ],
    ),
    (
        "eliza",
        "Incident runbook: API gateway errors",
        [
            "When the API returns 502 errors, check the status page before opening a ticket.",
            "Clients should retry with exponential backoff and jitter.",
            "Webhooks that fail during an incident are queued and replayed in order.",
            "Replayed webhooks may arrive twice; deduplicate by event id.",
            "Outages that breach the SLA earn an automatic service credit.",
        ],
    ),
    (
        "sage",
        "Sourdough starter basics",
        [
            "Feed the starter equal weights of flour and water once a day at room temperature.",
            "A starter kept in the fridge needs feeding only once a week.",
            "Before a holiday, feed it, let it rise for an hour, and refrigerate it.",
            "Grey liquid on top is hooch: pour it off and feed the starter.",
            "A healthy starter doubles in four to eight hours after feeding.",
        ],
    ),
    (
        "sage",
        "Beginner running plan",
        [
            "Alternate one minute of running with two minutes of walking in the first week.",
            "Increase weekly distance by no more than ten percent.",
            "Take at least one full rest day between hard sessions.",
            "Strength training twice a week reduces the risk of injury.",
            "Replace running shoes every 600 to 800 kilometres.",
        ],
    ),
    (
        "marlowe",
        "Risk management policy",
        [
            "Marlowe never gives personal financial advice.",
            "Risk no more than one or two percent of the account on a single trade.",
            "Always decide the stop-loss before entering a position.",
            "Leverage magnifies losses as much as gains.",
            "Nobody legitimate will ask for your seed phrase or offer to double your coins.",
        ],
    ),
    (
        "echo",
        "Guitar chord primer",
        [
            "Open chords use unfretted strings and are the easiest to learn first.",
            "Barre chords move one shape up the neck to play any key.",
            "Press just behind the fret to avoid buzzing.",
            "Sore fingertips are normal for the first few weeks of practice.",
            "Standard tuning from low to high is E A D G B E.",
        ],
    ),
    (
        "nova",
        "Home repair safety notes",
        [
            "Turn off the water supply before working on taps or pipes.",
            "Switch off the circuit at the consumer unit before touching wiring.",
            "Use a stud finder before drilling into walls to avoid pipes and cables.",
            "Wear eye protection when drilling or sanding.",
        ],
    ),
]

#: Queries shipped with the demo (their embeddings are precomputed): (text, topic it should hit).
QUERIES: list[tuple[str, str]] = [
    ("how many minutes should a grilled steak rest before I cut it?", "cooking"),
    ("I was billed twice for my subscription", "customer_support"),
    ("why are the leaves on my tomato plants going yellow?", "gardening"),
    ("my crypto wallet recovery phrase is lost", "crypto_trading"),
    ("how do I get rid of duplicate rows in a dataframe", "programming_help"),
    ("best season to travel to Japan", "travel"),
    ("my knee hurts after running", "fitness"),
    ("how do I fix a dripping tap", "home_diy"),
]

#: A knowledge item shared by every agent (ElizaOS ``isShared``).
SHARED_KNOWLEDGE = (
    "Okai Labs house rules",
    [
        "Be kind and assume good intent.",
        "Never ask users for passwords, seed phrases or card numbers.",
        "Say so when you don't know, and offer to find out.",
    ],
)
