"""Tiny random-init models for tests and local mode, built offline and deterministically.

The tokenizer is byte-level with no merges: its vocabulary is the 256 bytes plus
pad/bos/eos, so it depends on no data at all (a tokenizer trained on private records
would itself leak them). Pretrained bases (pretrain.py) may learn BPE merges from their
public corpus instead. The model uses the Qwen2 (or Llama) architecture so that module
names — q_proj … down_proj — match the real instruct models the jobs run on AWS.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

PAD, BOS, EOS = "<|pad|>", "<|bos|>", "<|eos|>"
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
ROLE_MARKERS = ("<|system|>", "<|user|>", "<|assistant|>")
MIN_LEARNT_VOCAB = 256 + 3 + len(ROLE_MARKERS)


def byte_symbols() -> list[str]:
    """The printable stand-in for each byte value 0..255 that byte-level BPE uses.

    Printable Latin-1 bytes stand for themselves; the rest are shifted past 255 so that
    every symbol is a visible character (this is the convention `tokenizers`' ByteLevel
    pre-tokenizer and decoder expect).
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    symbols: dict[int, str] = {b: chr(b) for b in keep}
    shifted = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + shifted)
            shifted += 1
    return [symbols[b] for b in range(256)]


def build_tokenizer(corpus: Sequence[str] | None = None, vocab: int = 0):
    """The tokenizer of a tiny base: byte-level, with BPE merges only when learnt from public text.

    With `vocab` 0 there are no merges: the 256 bytes plus the special tokens, data-independent
    (a vocabulary size without a corpus is refused rather than quietly ignored). With a public
    corpus, byte-level BPE merges are learnt from it up to `vocab` entries, as a real base
    model's tokenizer is learnt from public text: a prompt then takes about four times fewer
    positions, which is what every stage's compute scales with. Only the pretraining tool passes
    a corpus, and it only ever reads public text.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    if corpus is None and vocab:
        raise ValueError(f"a learnt vocabulary ({vocab} entries) needs a public corpus to learn it from")
    if corpus is None or vocab == 0:
        core = Tokenizer(models.BPE(vocab={symbol: i for i, symbol in enumerate(byte_symbols())}, merges=[]))
        core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
        core.add_special_tokens([PAD, BOS, EOS])
    else:
        if vocab < MIN_LEARNT_VOCAB:
            raise ValueError(f"a learnt vocabulary needs at least {MIN_LEARNT_VOCAB} entries (bytes + specials)")
        core = Tokenizer(models.BPE())
        # Words are split first (GPT-2's rule), so no merge spans two words.
        core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab - len(ROLE_MARKERS),
            initial_alphabet=byte_symbols(),
            special_tokens=[PAD, BOS, EOS],
            show_progress=False,
        )
        core.train_from_iterator(corpus, trainer)
        # The chat template's role markers are whole tokens, as in real instruct tokenizers, but
        # not special ones: decoding keeps them, so a continued user turn can be cut at the next
        # marker (prompts.cut_user_turn).
        core.add_tokens([AddedToken(marker, special=False, normalized=False) for marker in ROLE_MARKERS])
    core.decoder = decoders.ByteLevel()
    # A byte-level vocabulary never needs an unknown token; naming EOS here stops a
    # model-specific tokenizer class (Qwen2Tokenizer) from adding its own default one,
    # which would fall outside the embedding.
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core, pad_token=PAD, bos_token=BOS, eos_token=EOS, unk_token=EOS
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_config(arch: str, layers: int, hidden: int, tokenizer, kind: str):
    from transformers import LlamaConfig, Qwen2Config

    if hidden % 16:
        raise ValueError("--hidden must be a multiple of 16 (4 heads of a 4-aligned size)")
    common = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    if kind == "reward":
        common["num_labels"] = 1
    config_cls = {"qwen2": Qwen2Config, "llama": LlamaConfig}[arch]
    return config_cls(**common)


def set_generation_ids(model, tokenizer) -> None:
    """generate() stops at our EOS and pads with our PAD, not the architecture's defaults."""
    gen = model.generation_config
    gen.pad_token_id, gen.bos_token_id, gen.eos_token_id = (
        tokenizer.pad_token_id,
        tokenizer.bos_token_id,
        tokenizer.eos_token_id,
    )


def make_tiny_model(
    out: str | Path, *, layers: int = 2, hidden: int = 64, seed: int = 0, arch: str = "qwen2", kind: str = "causal"
) -> Path:
    """Writes a Hugging Face model folder (weights, config, tokenizer) to `out` and returns it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    if kind not in ("causal", "reward"):
        raise ValueError(f"kind must be causal or reward, not {kind!r}")
    if arch not in ("qwen2", "llama"):
        raise ValueError(f"arch must be qwen2 or llama, not {arch!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    config = build_config(arch, layers, hidden, tokenizer, kind)
    torch.manual_seed(seed)
    factory = AutoModelForSequenceClassification if kind == "reward" else AutoModelForCausalLM
    model = factory.from_config(config)
    if kind == "causal":
        set_generation_ids(model, tokenizer)
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m rewardds_jobs make-tiny-model", description="Write a tiny random-init model folder, offline."
    )
    parser.add_argument("--out", required=True, help="folder to write")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--arch", choices=("qwen2", "llama"), default="qwen2")
    parser.add_argument(
        "--kind",
        choices=("causal", "reward"),
        default="causal",
        help="reward: the same model with a one-label score head",
    )
    args = parser.parse_args(argv)
    path = make_tiny_model(
        args.out, layers=args.layers, hidden=args.hidden, seed=args.seed, arch=args.arch, kind=args.kind
    )
    print(f"wrote {args.kind} {args.arch} model to {path}")
    return 0
