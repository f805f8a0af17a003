"""How many questions G writes that a world's oracle can parse, per way of asking (docs/results.md,
"The first finished cell"): the few-shot instruction (`synthesis.queryPrompt: instruction`) and
the start of a user turn (`pre-query`), each through the synthesize-queries stage's own prompt
functions and the generator the stage uses.

    .venv/bin/python bench/query_validity.py --world examples/worlds/harbor --base <proxy base> \
        [--generator <G adapter>] [--samples 64]

With --generator, G (the adapter on the base) and the bare base are both measured. Prints one
JSON line: valid / samples per model and way. The queries come from the released G or the
public base and the seeds are public, so nothing here is private.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))

from rewardds_jobs.generate import Generator, ModelSpec
from rewardds_jobs.prompts import clean_query, cut_user_turn, pre_query, query_synthesis_prompt


def load_oracle(world: Path):
    spec = importlib.util.spec_from_file_location("oracle", world / "oracle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.answer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--base", type=Path, required=True, help="the proxy base folder")
    parser.add_argument("--generator", type=Path, help="G's adapter folder (a train-generator job's model)")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    # The bench config's sampling settings (bench/bench.config.json).
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.7)
    parser.add_argument("--max-new-tokens", type=int, default=80)
    args = parser.parse_args()

    answer = load_oracle(args.world)
    seeds = [json.loads(line)["prompt"] for line in (args.world / "seeds.jsonl").read_text().splitlines() if line]
    rng = random.Random(args.seed)
    sampling = dict(n=1, temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens)
    spec = ModelSpec(args.base, args.generator or args.base, name="generator")
    figures: dict[str, dict[str, int]] = {}
    with Generator(spec) as model:
        start, end = pre_query(model.tokenizer)
        for label, use_adapter in [("G", True), ("base", False)] if args.generator else [("base", False)]:
            instructions = [query_synthesis_prompt(rng.sample(seeds, 2)) for _ in range(args.samples)]
            asked = model.complete(instructions, seed=args.seed, use_adapter=use_adapter, **sampling)
            continued = model.complete(
                [start] * args.samples, raw=True, seed=args.seed, use_adapter=use_adapter, **sampling
            )
            figures[label] = {
                "instruction": sum(answer(clean_query(c[0].text)) is not None for c in asked),
                "pre-query": sum(answer(clean_query(cut_user_turn(c[0].text, end))) is not None for c in continued),
                "samples": args.samples,
            }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
