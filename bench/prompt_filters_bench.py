"""What the prompt filters add to a request: `prompt_check` with a hundred filters, per prompt.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/horde REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/prompt_filters_bench.py [--filters 100] [--calls 2000]

Inside one transaction that is rolled back at the end (the database keeps nothing): adds
--filters filters shaped like real ones (word lists with boundaries and plural endings,
60% type 10, 20% type 11, 10% replacements, 10% NSFW terms), then times `prompt_check` as
the submit path calls it (the shared cache's version read included) on prompts of 60, 300
and 1,000 characters that match nothing (the common case, and the slowest: every pattern is
tried at every position), against the same call with no filters. Also times a recompile (what
each process pays once after a filter change). Prints p50/p99 in microseconds and the added
cost per request.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "horde_site.settings")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
os.environ.setdefault("RATINGS_PSEUDONYM_KEY", "bench-pseudonym-key-not-for-production")
os.environ.setdefault("HORDE_VAR_DIR", "/tmp/horde-bench-var")
os.environ.setdefault("HORDE_HTTPS", "0")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from moderation import prompt_check  # noqa: E402
from moderation.models import PromptFilter  # noqa: E402


class Rollback(Exception):
    pass


def word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10)))


def prompt_of(rng: random.Random, chars: int) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < chars:
        words.append(word(rng).capitalize() if rng.random() < 0.1 else word(rng))
    return (" ".join(words))[:chars] + ", highly detailed, 8k"


def timed(prompts: list[str], calls: int) -> list[float]:
    out = []
    for index in range(calls):
        started = time.perf_counter()
        prompt_check.prompt_check(prompts[index % len(prompts)])
        out.append(time.perf_counter() - started)
    return out


def figures(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return 1e6 * statistics.median(ordered), 1e6 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--filters", type=int, default=100)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(12)
    types = [10] * 6 + [11] * 2 + [20] + [21]
    try:
        with transaction.atomic():
            PromptFilter.objects.all().delete()  # rolled back: the bench measures its own set
            prompt_check.filters_changed()
            empty = {chars: timed([prompt_of(rng, chars) for _ in range(50)], args.calls) for chars in (60, 300, 1000)}
            PromptFilter.objects.bulk_create(
                PromptFilter(
                    regex=rf"\b(?:{word(rng)}|{word(rng)}|{word(rng)})(?:s|es)?\b",
                    filter_type=types[index % len(types)],
                    replacement="adult" if types[index % len(types)] == 20 else "",
                )
                for index in range(args.filters)
            )
            prompt_check.filters_changed()
            started = time.perf_counter()
            compiled = prompt_check.compiled_filters()
            compile_ms = 1000 * (time.perf_counter() - started)
            assert compiled.count == args.filters
            print(f"{args.filters} filters; recompile after a change: {compile_ms:.2f} ms (once per process)")
            print(f"{'prompt':>10} {'no filters p50/p99 us':>24} {'with filters p50/p99 us':>26} {'added p50 us':>14}")
            for chars, base in empty.items():
                prompts = [prompt_of(rng, chars) for _ in range(50)]
                with_filters = timed(prompts, args.calls)
                base50, base99 = figures(base)
                with50, with99 = figures(with_filters)
                print(
                    f"{chars:>7} ch {base50:>11.1f} / {base99:>8.1f} {with50:>13.1f} / {with99:>8.1f}"
                    f" {with50 - base50:>14.1f}"
                )
            raise Rollback
    except Rollback:
        pass
    prompt_check.filters_changed()


if __name__ == "__main__":
    main()
