"""Pretrained tiny base models, offline: causal-LM pretraining from scratch on a public corpus.

A random tiny model cannot show whether a stage does its job (every evaluation reads 0).
This tool gives the local pipeline base models that know a public language: a `{"text": ...}`
JSONL corpus is packed, whole documents at a time, into fixed-length blocks of tokens and the
model is trained with AdamW for a bounded number of steps. The tokenizer (tiny.build_tokenizer)
is byte-level; with `vocab` > 0 its BPE merges are learnt from the same public corpus, so a
text takes about four times fewer positions and every stage that runs on the base is that
much cheaper.

The result is an ordinary Hugging Face folder (weights, config, tokenizer) that every stage
loads like a real base model. Folders are cached under a key that hashes every input that
changes the weights: the corpus bytes, the size, steps, seed, the training settings and this
code's own source, so a benchmark grid pretrains each base once and a code change never
reuses a stale model.

Only public text may be given: the base models are shared by both zones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .losses import IGNORE_INDEX
from .tiny import MIN_LEARNT_VOCAB, build_config, build_tokenizer, set_generation_ids

# Proxy base (generator and reward share it) and a larger target base, like the real setting
# (a 0.5B-class proxy, a 7B-class target). The proxy's shape is the one that learned a
# fact-lookup task on two CPU cores in about three minutes; the target is wider.
SIZES: dict[str, dict] = {
    "proxy": {"arch": "qwen2", "layers": 4, "hidden": 128},
    "target": {"arch": "llama", "layers": 4, "hidden": 192},
}
METADATA_FILE = "pretrain.json"
LOG_EVERY = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainSettings:
    steps: int = 600
    seed: int = 0
    batch_size: int = 32
    # Longer than the world's longest document (a chat line is ≈ 100–200 bytes, 30–50 learnt
    # tokens): see pack_documents.
    block: int = 256
    learning_rate: float = 3e-3
    warmup: int = 30
    # 0: bytes only; otherwise the most entries of a vocabulary learnt from the corpus.
    vocab: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.block < 8 or self.warmup < 0:
            raise ValueError("steps and batch size must be positive, block at least 8, warmup non-negative")
        if not 0 < self.learning_rate < 1:
            raise ValueError("learning rate must lie in (0, 1)")
        if self.vocab and self.vocab < MIN_LEARNT_VOCAB:
            raise ValueError(f"vocab must be 0 (bytes only) or at least {MIN_LEARNT_VOCAB}")


@dataclass
class PretrainResult:
    path: Path
    cached: bool
    key: str
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def code_version() -> str:
    """A digest of the code that decides the weights: this module and the tokenizer/config builder."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("pretrain.py", "tiny.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def cache_key(corpus_bytes: bytes, size: str, settings: PretrainSettings) -> str:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    material = {
        "corpus": hashlib.sha256(corpus_bytes).hexdigest(),
        "size": size,
        "shape": SIZES[size],
        "settings": asdict(settings),
        "code": code_version(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]


def read_corpus(corpus_bytes: bytes) -> list[str]:
    """The `text` of every non-blank JSONL line; a bad line names its number, never its content."""
    texts = []
    for line_no, raw in enumerate(corpus_bytes.decode("utf-8").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError(f"corpus line {line_no}: not valid JSON") from None
        if not isinstance(value, dict) or not isinstance(value.get("text"), str):
            raise ValueError(f"corpus line {line_no}: must be an object with a string `text`")
        texts.append(value["text"])
    if not texts:
        raise ValueError("corpus holds no text")
    return texts


def pack_documents(texts: list[str], tokenizer, block: int) -> tuple[list[list[int]], list[list[int]]]:
    """Rows of `block` tokens holding whole documents (bytes + EOS), and their labels.

    A document is never cut at a row's end: the next one that does not fit starts a new row
    and the rest of the row is padding (label IGNORE_INDEX, so no loss). Cutting would show
    a chat line's answer without the question it answers, so the model would learn to answer
    without reading the question, and positions past a short block would never be trained,
    while a prompt plus its answer is longer than 128 bytes. A document longer than `block`
    is cut into `block`-sized pieces, each a row of its own.

    No BOS: every stage feeds a prompt without special tokens (`add_special_tokens=False`),
    so a row starts the way a prompt does, with its first byte at position 0; EOS separates
    the documents that share a row.
    """
    rows: list[list[int]] = []
    current: list[int] = []
    for text in texts:
        doc = [*tokenizer(text, add_special_tokens=False)["input_ids"], tokenizer.eos_token_id]
        if len(current) + len(doc) > block and current:
            rows.append(current)
            current = []
        if len(doc) > block:
            rows.extend(doc[i : i + block] for i in range(0, len(doc), block))
            continue
        current.extend(doc)
    if current:
        rows.append(current)
    pad = tokenizer.pad_token_id
    inputs = [row + [pad] * (block - len(row)) for row in rows]
    labels = [row + [IGNORE_INDEX] * (block - len(row)) for row in rows]
    return inputs, labels


def learning_rate_at(step: int, settings: PretrainSettings) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    if step < settings.warmup:
        return settings.learning_rate * (step + 1) / settings.warmup
    span = max(1, settings.steps - settings.warmup)
    progress = (step - settings.warmup) / span
    return settings.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def new_model(size: str, tokenizer, seed: int):
    """A causal LM of `size` with fresh weights (drawn under `seed`), speaking `tokenizer`'s ids."""
    import torch
    from transformers import AutoModelForCausalLM

    shape = SIZES[size]
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(
        build_config(shape["arch"], shape["layers"], shape["hidden"], tokenizer, "causal")
    )
    set_generation_ids(model, tokenizer)
    return model


def train_steps(
    model, rows, labels, settings: PretrainSettings, report: Callable[[int, float], None], every: int = LOG_EVERY
) -> list[float]:
    """Pretrains `model` on the `rows`/`labels` tensors; returns each step's loss, the model left in eval mode.

    `settings.steps` AdamW steps, each on `settings.batch_size` rows drawn by a seeded RNG, the
    learning rate following learning_rate_at; every `every` steps, `report(step, their mean loss)`.
    """
    import torch

    order = random.Random(settings.seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=0.01)
    losses: list[float] = []
    model.train()
    for step in range(settings.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, settings)
        picked = [order.randrange(len(rows)) for _ in range(settings.batch_size)]
        loss = model(input_ids=rows[picked], labels=labels[picked]).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
        if (step + 1) % every == 0:
            recent = losses[-every:]
            report(step + 1, sum(recent) / len(recent))
    model.eval()
    return losses


def train_from_scratch(texts: list[str], size: str, settings: PretrainSettings, out: Path) -> list[float]:
    """Builds the model for `size`, pretrains it, writes the folder to `out`; returns per-step losses."""
    import torch

    tokenizer = build_tokenizer(texts, settings.vocab)
    model = new_model(size, tokenizer, settings.seed)
    rows, row_labels = pack_documents(texts, tokenizer, settings.block)
    blocks = torch.tensor(rows, dtype=torch.long)
    labels = torch.tensor(row_labels, dtype=torch.long)
    longest = max(len(tokenizer(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)
    if longest > settings.block:
        log.warning(
            "the longest document (%d tokens) is longer than the block (%d): it is cut", longest, settings.block
        )

    def report(step: int, mean_loss: float) -> None:
        log.info("%s pretraining: step %d/%d, mean loss %.3f", size, step, settings.steps, mean_loss)

    losses = train_steps(model, blocks, labels, settings, report)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return losses


def pretrain_tiny_model(
    corpus: str | Path, cache: str | Path, *, size: str = "proxy", settings: PretrainSettings | None = None
) -> PretrainResult:
    """The pretrained folder for (corpus, size, settings), from `cache` when it is already there."""
    settings = settings or PretrainSettings()
    corpus_bytes = Path(corpus).read_bytes()
    key = cache_key(corpus_bytes, size, settings)
    folder = Path(cache) / f"{size}-{key}"
    if (folder / METADATA_FILE).is_file():
        meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
        return PretrainResult(folder, cached=True, key=key, losses=meta["losses"], seconds=meta["seconds"])
    texts = read_corpus(corpus_bytes)
    # Written under a temporary name and renamed, so a reader (or a second grid cell) never
    # takes a half-written folder for a cache hit.
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.perf_counter()
    try:
        losses = train_from_scratch(texts, size, settings, tmp)
        seconds = time.perf_counter() - started
        meta = {"size": size, **SIZES[size], "settings": asdict(settings), "key": key}
        meta.update({"lossFirst": losses[0], "lossLast": losses[-1], "seconds": round(seconds, 3), "losses": losses})
        (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        if folder.exists():  # another process finished the same key first: keep theirs
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return PretrainResult(folder, cached=False, key=key, losses=losses, seconds=seconds)


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m rewardds_jobs pretrain-tiny-model",
        description="Pretrain a tiny base model from scratch on a public {text} JSONL corpus, cached by its inputs.",
    )
    parser.add_argument("--corpus", required=True, help="public text, one {'text': ...} object per line")
    parser.add_argument("--cache", required=True, help="cache folder; the model lands in <cache>/<size>-<key>/")
    parser.add_argument("--size", choices=tuple(SIZES), default="proxy")
    parser.add_argument("--steps", type=int, default=PretrainSettings.steps)
    parser.add_argument("--seed", type=int, default=PretrainSettings.seed)
    parser.add_argument("--batch-size", type=int, default=PretrainSettings.batch_size)
    parser.add_argument("--block", type=int, default=PretrainSettings.block, help="tokens per packed row")
    parser.add_argument(
        "--vocab",
        type=int,
        default=PretrainSettings.vocab,
        help="0: bytes only; N: BPE learnt from the corpus, at most N tokens",
    )
    parser.add_argument("--learning-rate", type=float, default=PretrainSettings.learning_rate)
    parser.add_argument("--out", help="also copy the folder here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = PretrainSettings(
        steps=args.steps,
        seed=args.seed,
        batch_size=args.batch_size,
        block=args.block,
        learning_rate=args.learning_rate,
        warmup=min(PretrainSettings.warmup, args.steps // 10),
        vocab=args.vocab,
    )
    result = pretrain_tiny_model(args.corpus, args.cache, size=args.size, settings=settings)
    path = result.path
    if args.out:
        shutil.copytree(result.path, args.out, dirs_exist_ok=True)
        path = Path(args.out)
    state = "cache hit" if result.cached else f"trained in {result.seconds:.1f}s"
    print(f"{args.size} model ({state}; loss {result.losses[0]:.3f} -> {result.losses[-1]:.3f}) at {path}")
    return 0
