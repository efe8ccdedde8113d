"""Write examples/questions.jsonl: 300 short questions with their expected
answers, for `hookchain batch` (the README's "Batch" section). Deterministic:
running it again writes the same file.

    python examples/make_questions.py
"""

import json
import random
from pathlib import Path


def questions(rng: random.Random) -> list[dict]:
    out = []
    words = ["river", "lantern", "orbit", "meadow", "cipher", "harbor", "quartz", "willow", "signal", "ember"]
    for i in range(300):
        kind = ("sum", "product", "convert", "reverse", "compare")[i % 5]
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        if kind == "sum":
            question, expected = f"What is {a} + {b}?", str(a + b)
        elif kind == "product":
            question, expected = f"What is {a} times {b}?", str(a * b)
        elif kind == "convert":
            question, expected = f"How many metres are {a}.{b:02d} kilometres?", str(a * 1000 + b * 10)
        elif kind == "reverse":
            word = rng.choice(words)
            question, expected = f"Spell the word '{word}' backwards.", word[::-1]
        else:
            question, expected = f"Which is larger, {a} or {b}?", str(max(a, b))
        out.append({"id": f"q{i + 1:03d}", "kind": kind, "question": question, "expected": expected})
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("questions.jsonl")
    path.write_text("".join(json.dumps(q) + "\n" for q in questions(random.Random(16))))
    print(f"wrote {path}")
