"""Generate the gpt2-mini training corpus and evaluation prompts from data/countries.csv.

Writes (into tools/train/build/, regenerated deterministically, not committed):
  corpus.txt  one document per line: facts rendered by the TRAIN templates, shuffled into multi-sentence documents
  eval.jsonl  one prompt per line {"kind", "template", "country", "prompt", "answer"} for TRAIN and HELD_OUT templates
Usage: /usr/bin/python3 tools/train/corpus.py [--docs 60000] [--seed 1234]
"""
import argparse
import csv
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "tools" / "train" / "build"


def load_countries(path=ROOT / "data" / "countries.csv"):
    """Rows of the facts table; `name` carries its article ("the Netherlands") as used mid-sentence."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f)]
    out = []
    for r in rows:
        name = f"{r['article']} {r['country']}" if r["article"] else r["country"]
        langs = r["languages"].split(";")
        out.append(dict(country=r["country"], name=name, capital=r["capital"], continent=r["continent"],
                        languages=langs, currency=r["currency"]))
    return out


def lang_list(langs):
    return langs[0] if len(langs) == 1 else ", ".join(langs[:-1]) + " and " + langs[-1]


def possessive(name):
    return name + ("'" if name.endswith("s") else "'s")


def cap_first(s):
    return s[0].upper() + s[1:]


# Each template: (kind, id, function(country) -> (prompt, answer)). The sentence is prompt + " " + answer + ".".
# The answer always follows a space so its first token is a space-prefixed word, as in GPT-2 text.
TRAIN = [
    ("capital", "capital_of_is", lambda c: (f"The capital of {c['name']} is", c["capital"])),
    ("capital", "in_the_capital_is", lambda c: (f"In {c['name']}, the capital is", c["capital"])),
    ("capital", "has_its_capital_in", lambda c: (f"{cap_first(c['name'])} has its capital in", c["capital"])),
    ("country", "is_the_capital_of", lambda c: (f"{c['capital']} is the capital of", c["name"])),
    ("continent", "is_a_country_in", lambda c: (f"{cap_first(c['name'])} is a country in", c["continent"])),
    ("continent", "is_located_in", lambda c: (f"{cap_first(c['name'])} is located in", c["continent"])),
    ("language", "people_in_speak", lambda c: (f"People in {c['name']} speak", c["languages"][0])),
    ("language", "in_people_speak", lambda c: (f"In {c['name']}, people speak", c["languages"][0])),
    ("language", "official_language",
     lambda c: (f"The official language{'s' if len(c['languages']) > 1 else ''} of {c['name']} "
                f"{'are' if len(c['languages']) > 1 else 'is'}", lang_list(c["languages"]))),
    ("currency", "currency_of_is", lambda c: (f"The currency of {c['name']} is the", c["currency"])),
    ("currency", "in_people_pay_with", lambda c: (f"In {c['name']}, people pay with the", c["currency"])),
]

# Sentences that refer back to the country named earlier in a profile document: the model must attend to it.
PRONOUN = [
    ("capital", "its_capital_is", lambda c: ("Its capital is", c["capital"])),
    ("continent", "it_is_in", lambda c: ("It is in", c["continent"])),
    ("language", "people_there_speak", lambda c: ("People there speak", c["languages"][0])),
    ("currency", "its_currency_is", lambda c: ("Its currency is the", c["currency"])),
]

# Never rendered into the corpus: they measure whether facts transfer to unseen phrasings.
HELD_OUT = [
    ("capital", "possessive_capital_is", lambda c: (f"{cap_first(possessive(c['name']))} capital is", c["capital"])),
    ("capital", "capital_city_of_is", lambda c: (f"The capital city of {c['name']} is", c["capital"])),
    ("language", "most_people_in_speak", lambda c: (f"Most people in {c['name']} speak", c["languages"][0])),
    ("currency", "official_currency_of_is",
     lambda c: (f"The official currency of {c['name']} is the", c["currency"])),
    ("continent", "lies_in", lambda c: (f"{cap_first(c['name'])} lies in", c["continent"])),
]


def sentence(template, c):
    prompt, answer = template[2](c)
    return f"{prompt} {answer}."


def profile_doc(rng, c):
    """One country: an intro naming it, then 2-5 facts, some referring back with 'its'/'there'."""
    intro = sentence(rng.choice([t for t in TRAIN if t[0] == "continent"]), c)
    facts = rng.sample(TRAIN, rng.randint(1, 3)) + rng.sample(PRONOUN, rng.randint(1, 3))
    rng.shuffle(facts)
    return " ".join([intro] + [sentence(t, c) for t in facts])


def mixed_doc(rng, countries):
    """2-6 facts about random countries, so the model must bind each fact to the nearest country name."""
    return " ".join(sentence(rng.choice(TRAIN), rng.choice(countries)) for _ in range(rng.randint(2, 6)))


def make_corpus(countries, n_docs, seed):
    rng = random.Random(seed)
    docs = []
    for _ in range(n_docs):
        u = rng.random()
        if u < 0.4:
            docs.append(profile_doc(rng, rng.choice(countries)))
        elif u < 0.8:
            docs.append(mixed_doc(rng, countries))
        else:
            docs.append(sentence(rng.choice(TRAIN), rng.choice(countries)))
    return docs


def make_eval(countries):
    items = []
    for split, templates in (("train", TRAIN), ("held_out", HELD_OUT)):
        for kind, tid, fn in templates:
            for c in countries:
                prompt, answer = fn(c)
                items.append(dict(split=split, kind=kind, template=tid, country=c["country"],
                                  prompt=prompt, answer=" " + answer))
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=60000)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    countries = load_countries()
    BUILD.mkdir(parents=True, exist_ok=True)
    docs = make_corpus(countries, args.docs, args.seed)
    (BUILD / "corpus.txt").write_text("\n".join(docs) + "\n", encoding="utf-8")
    with open(BUILD / "eval.jsonl", "w", encoding="utf-8") as f:
        for item in make_eval(countries):
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(countries)} countries, {len(docs)} documents -> {BUILD}")


if __name__ == "__main__":
    main()
