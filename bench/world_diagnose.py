"""Why a world's target does or does not learn, in one process (docs/worlds.md, second diagnosis).

Pretrains a target-size base on the world's corpus (`--mode whole`: pretrain.pack_documents,
as pretrain-tiny-model does; `--mode split`: the former 128-byte cut of one BOS/EOS stream,
kept for comparison), or takes `--base`; then measures

- greedy answer accuracy on 48 of the corpus's own public chat lines (does the base recall
  public facts it was trained on?) and, teacher-forced on 40 of them, the mean NLL per byte
  of the question, the answer's ship name, the answer's code and the rest of the answer;
- with `--ft lora|full`: a non-DP fine-tune on the private train set, then recall on 48
  train prompts and accuracy on the private test.

Prints aggregates and the first two answers of each probe: a developer's diagnostic, run on
the machine that holds the world, never part of the pipeline.

    OMP_NUM_THREADS=1 REWARDDS_DEVICE=cpu REWARDDS_GENERATION=transformers nice -n 10 \\
      .venv/bin/python bench/world_diagnose.py --mode whole --steps 480 --ft lora --out /tmp/diag
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "jobs"))

from rewardds_jobs import pretrain  # noqa: E402
from rewardds_jobs.config import LoraConfig  # noqa: E402
from rewardds_jobs.generate import Generator, ModelSpec  # noqa: E402
from rewardds_jobs.lora import attach_lora  # noqa: E402
from rewardds_jobs.models import load_causal_lm, load_tokenizer, lora_target_modules  # noqa: E402
from rewardds_jobs.prompts import format_prompt  # noqa: E402
from rewardds_jobs.sft import encode_sft, train_sft  # noqa: E402
from rewardds_jobs.tiny import build_tokenizer  # noqa: E402

CODE = re.compile(r"berth ([A-Z]-\d{2})")
CHAT = re.compile(r"<\|user\|>\n(.*)\n<\|assistant\|>\n(.*)$", re.S)
STARTED = time.time()


def log(*parts) -> None:
    print(f"[{time.time() - STARTED:6.0f}s]", *parts, flush=True)


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def split_rows(texts: list[str], tok, block: int) -> list[list[int]]:
    stream: list[int] = []
    for text in texts:
        stream += [tok.bos_token_id, *tok(text, add_special_tokens=False)["input_ids"], tok.eos_token_id]
    return [stream[i : i + block] for i in range(0, len(stream) - block + 1, block)]


def pretrain_base(args, texts: list[str], folder: Path) -> None:
    settings = pretrain.PretrainSettings(
        steps=args.steps,
        batch_size=args.batch,
        block=args.block,
        learning_rate=args.lr,
        warmup=min(30, args.steps // 10),
    )
    tok = build_tokenizer()
    model = pretrain.new_model("target", tok, settings.seed)
    if args.mode == "split":
        rows = torch.tensor(split_rows(texts, tok, args.block))
        labels = rows
    else:
        ids, lab = pretrain.pack_documents(texts, tok, args.block)
        rows, labels = torch.tensor(ids), torch.tensor(lab)
    pretrain.train_steps(
        model, rows, labels, settings, lambda step, mean_loss: log("step", step, "loss", round(mean_loss, 4)), every=40
    )
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))


def accuracy(predictions: list[str], references: list[str]) -> float:
    pairs = [(p, CODE.search(r).group(1)) for p, r in zip(predictions, references, strict=True) if CODE.search(r)]
    return sum((m := CODE.search(p)) is not None and m.group(1) == want for p, want in pairs) / len(pairs)


def probe(base: Path, adapter: Path | None, label: str, pairs: list[tuple[str, str]]) -> float:
    with Generator(ModelSpec(base, adapter=adapter)) as generator:
        answers = [a[0] for a in generator.generate([p for p, _ in pairs], greedy=True, max_new_tokens=72)]
    score = accuracy(answers, [r for _, r in pairs])
    log(label, f"answer accuracy {score:.3f};", repr(answers[0][:70]), "|", repr(answers[1][:70]))
    return score


def nll_by_part(folder: Path, chats: list[str]) -> dict[str, float]:
    """Teacher-forced NLL per byte: question, first byte of the answer's ship name, the rest of it, code, rest."""
    tok = load_tokenizer(folder)
    model = load_causal_lm(folder, device=torch.device("cpu"))
    parts: dict[str, list[float]] = {
        "question": [],
        "answerNameFirstByte": [],
        "answerName": [],
        "answerCode": [],
        "answerRest": [],
    }
    for text in chats:
        ids = [*tok(text, add_special_tokens=False)["input_ids"], tok.eos_token_id]
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0, :-1].float(), -1)
        nll = -logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]
        start = text.index("<|assistant|>\n") + len("<|assistant|>\n")
        answer = text[start:]
        name = re.match(r"(?:The |You can find the )?(.*?)(,| docks| at| is)", answer)
        name_span = (start + name.start(1), start + name.end(1)) if name else (start, start)
        code = re.search(r"[A-Z]-\d\d", answer)
        code_span = (start + code.start(), start + code.end())
        for pos in range(1, len(ids)):  # ASCII text: byte index == character index
            part = (
                "question"
                if pos < start
                else "answerNameFirstByte"
                if pos == name_span[0]
                else "answerName"
                if name_span[0] <= pos < name_span[1]
                else "answerCode"
                if code_span[0] <= pos < code_span[1]
                else "answerRest"
            )
            parts[part].append(float(nll[pos - 1]))
    return {k: round(sum(v) / len(v), 3) for k, v in parts.items() if v}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--world", type=Path, default=ROOT / "examples/worlds/harbor")
    parser.add_argument("--mode", choices=("split", "whole"), default="whole")
    parser.add_argument("--block", type=int, default=256)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=160)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--base", type=Path, help="a pretrained folder to reuse instead of pretraining")
    parser.add_argument("--ft", choices=("none", "lora", "full"), default="none")
    parser.add_argument("--ft-lr", type=float, default=2e-3)
    parser.add_argument("--ft-epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    corpus = [r["text"] for r in read_jsonl(args.world / "corpus.jsonl")]
    folder = args.base or args.out / "base"
    if args.base is None:
        folder.mkdir(parents=True, exist_ok=True)
        pretrain_base(args, corpus, folder)
        log("pretrained", folder)
    chats = [t for t in corpus if (m := CHAT.match(t)) and CODE.search(m.group(2))]
    public = [(m.group(1), m.group(2)) for m in map(CHAT.match, chats)][:48]
    result: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    result["publicRecallBase"] = probe(folder, None, "base, public chat lines", public)
    result["nllByPart"] = nll_by_part(folder, chats[:40])
    log("teacher-forced NLL per byte", result["nllByPart"])
    if args.ft != "none":
        train = read_jsonl(args.world / "train.jsonl")
        test = read_jsonl(args.world / "test.jsonl")
        tok = load_tokenizer(folder)
        model = load_causal_lm(folder, device=torch.device("cpu"))
        if args.ft == "lora":
            model = attach_lora(model, LoraConfig(r=16, alpha=32, dropout=0.0), lora_target_modules(model))
        examples = [encode_sft(tok, format_prompt(tok, r["prompt"]), r["response"], 256) for r in train]
        fit = train_sft(
            model,
            examples,
            pad_id=tok.pad_token_id,
            batch_size=16,
            epochs=args.ft_epochs,
            learning_rate=args.ft_lr,
            seed=0,
        )
        last = sum(fit.losses[-10:]) / len(fit.losses[-10:])
        log(args.ft, "fine-tune:", fit.steps, "steps, loss", round(fit.losses[0], 3), "->", round(last, 3))
        result["fineTune"] = {
            "steps": fit.steps,
            "lossFirst": fit.losses[0],
            "lossLast10": last,
            "seconds": fit.seconds,
        }
        tuned = args.out / "fine-tuned"
        model.save_pretrained(str(tuned))
        tok.save_pretrained(str(tuned))
        base, adapter = (folder, tuned) if args.ft == "lora" else (tuned, None)
        pairs = [(r["prompt"], r["response"]) for r in train[:48]]
        result["trainRecall"] = probe(base, adapter, "fine-tuned, 48 train prompts", pairs)
        result["testAccuracy"] = probe(
            base, adapter, "fine-tuned, private test", [(r["prompt"], r["response"]) for r in test]
        )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "result.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    log("RESULT", json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
