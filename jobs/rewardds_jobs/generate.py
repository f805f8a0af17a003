"""Text generation for every stage, behind one function.

vLLM serves it when a CUDA GPU is present and vLLM imports (LoRA through LoRARequest);
otherwise batched `transformers` generation runs it on whatever device there is. vLLM is
never imported on a machine without CUDA. Prompts are user prompts: they go through
`format_prompt`, the one template the trainings use, before the model sees them.
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from .models import load_causal_lm, load_tokenizer
from .prompts import format_prompt

log = logging.getLogger(__name__)
DEFAULT_BATCH = 16


@dataclass(frozen=True)
class ModelSpec:
    """A base model folder, optionally with a LoRA adapter folder on top."""

    base: Path
    adapter: Path | None = None
    name: str = "model"


@dataclass(frozen=True)
class Completion:
    text: str
    # False when generation stopped at max_new_tokens instead of ending by itself.
    finished: bool
    # Generated tokens up to (not counting) the stop token.
    tokens: int = 0


@dataclass
class GenerationStats:
    prompts: int = 0
    sequences: int = 0
    new_tokens: int = 0
    seconds: float = 0.0

    def as_metrics(self, prefix: str = "") -> dict:
        """camelCase keys, e.g. `sequences`, or `critiqueSequences` with prefix `critique`."""
        rate = self.new_tokens / self.seconds if self.seconds > 0 else 0.0
        values = {"sequences": self.sequences, "newTokens": self.new_tokens, "tokensPerSecond": round(rate, 2)}
        return {(prefix + key[0].upper() + key[1:]) if prefix else key: v for key, v in values.items()}


def use_vllm() -> bool:
    """REWARDDS_GENERATION=transformers|vllm forces a backend; default: vLLM iff CUDA and vLLM are there."""
    forced = os.environ.get("REWARDDS_GENERATION")
    if forced:
        return forced == "vllm"
    return torch.cuda.is_available() and importlib.util.find_spec("vllm") is not None


class Generator:
    """A loaded model that generates; load once, call many times, `close()` to free the device."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        batch_size: int | None = None,
        adapters: Mapping[str, Path] | None = None,
        merged: bool = False,
    ):
        """`adapters` adds named LoRA adapters on the same base (evaluate runs every round on one load).

        `merged` folds the spec's one adapter into the base weights before generating: each layer
        then does one matrix product instead of three (the LoRA detour), which is what costs on a
        CPU, but the base can no longer answer on its own. vLLM serves LoRA itself and ignores it.
        """
        self.spec = spec
        self.batch_size = batch_size or int(os.environ.get("REWARDDS_GEN_BATCH", DEFAULT_BATCH))
        self.tokenizer = load_tokenizer(spec.adapter or spec.base, fallback=spec.base)
        self.stats = GenerationStats()
        self._adapters: dict[str, Path] = {spec.name: spec.adapter} if spec.adapter is not None else {}
        for name, path in (adapters or {}).items():
            if name in self._adapters:
                raise ValueError(f"adapter name {name!r} given twice")
            self._adapters[name] = Path(path)
        self._default = spec.name if spec.adapter is not None else None
        if merged and len(self._adapters) != 1:
            raise ValueError(f"merged generation needs exactly one adapter, got {len(self._adapters)}")
        self._merged = False
        self._vllm = use_vllm()
        # Which engine really generates, and why not vLLM when it was chosen but failed to start.
        self.backend = "transformers"
        self.fallback_reason: str | None = None
        if self._vllm:
            try:
                self._llm, self._lora = _start_vllm(spec, self._adapters)
                self._model = None
                self.backend = "vllm"
            except Exception as error:
                # An engine that cannot start (kernels built for another CUDA, too little memory)
                # must not fail the stage: batched transformers keeps its outputs' contract, only slower.
                self.fallback_reason = _engine_failure(error)
                log.warning(
                    "vLLM engine did not start (%s); falling back to batched transformers", self.fallback_reason
                )
                self._vllm = False
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
        if not self._vllm:
            self._model = _load_hf(spec.base, self._adapters)
            if merged:
                self._model = self._model.merge_and_unload()
                self._merged = True
            self.tokenizer.padding_side = "left"
            self.tokenizer.truncation_side = "left"

    def generate(self, prompts: Sequence[str], **kwargs) -> list[list[str]]:
        """`n` completion texts for each user prompt, in prompt order. Same seed, same inputs → same texts."""
        return [[c.text for c in row] for row in self.complete(prompts, **kwargs)]

    def complete(
        self,
        prompts: Sequence[str],
        *,
        n: int = 1,
        temperature: float = 1.0,
        top_p: float = 1.0,
        max_new_tokens: int = 128,
        seed: int = 0,
        greedy: bool = False,
        max_input_tokens: int | None = None,
        use_adapter: bool = True,
        adapter: str | None = None,
        raw: bool = False,
    ) -> list[list[Completion]]:
        """Like `generate`, with whether each completion ended by itself.

        `adapter` names which loaded adapter answers (default: the spec's own);
        `use_adapter=False` runs the bare base model, so one loaded model serves both
        (build-pairs needs base and G answers, evaluate the base and every round).
        """
        name = (adapter or self._default) if use_adapter else None
        if name is not None and name not in self._adapters:
            raise ValueError(f"no adapter named {name!r} is loaded")
        if self._merged and name != self._default:
            raise ValueError("the adapter is merged into the base: this generator cannot answer without it")
        if greedy and n != 1:
            raise ValueError("greedy decoding gives one completion per prompt; ask for n=1")
        if not prompts:
            return []
        started = time.perf_counter()
        # raw: the texts are model input already (a pre-query template), not user prompts.
        texts = list(prompts) if raw else [format_prompt(self.tokenizer, p) for p in prompts]
        if self._vllm:
            out = self._generate_vllm(
                texts, n, temperature, top_p, max_new_tokens, seed, greedy, max_input_tokens, name
            )
        else:
            with self._adapter_switch(name):
                out = self._generate_hf(texts, n, temperature, top_p, max_new_tokens, seed, greedy, max_input_tokens)
        self.stats.prompts += len(prompts)
        self.stats.sequences += len(prompts) * n
        self.stats.seconds += time.perf_counter() - started
        return out

    def _adapter_switch(self, name: str | None):
        if not self._adapters or self._merged:
            return contextlib.nullcontext()
        if name is None:
            return self._model.disable_adapter()
        self._model.set_adapter(name)
        return contextlib.nullcontext()

    def _generate_hf(self, texts, n, temperature, top_p, max_new_tokens, seed, greedy, max_input_tokens):
        model, tok = self._model, self.tokenizer
        device = next(model.parameters()).device
        # One seed for the whole call, batches in a fixed order: reproducible on CPU.
        torch.manual_seed(seed)
        sampling = (
            dict(do_sample=False)
            if greedy
            else dict(do_sample=True, temperature=temperature, top_p=top_p, top_k=0, num_return_sequences=n)
        )
        results: list[list[str]] = []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start : start + self.batch_size]
            enc = tok(
                batch,
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
                truncation=max_input_tokens is not None,
                max_length=max_input_tokens,
            )
            enc = {k: v.to(device) for k, v in enc.items()}
            with torch.no_grad():
                generated = model.generate(
                    **enc, max_new_tokens=max_new_tokens, pad_token_id=tok.pad_token_id, **sampling
                )
            new = generated[:, enc["input_ids"].shape[1] :]
            self.stats.new_tokens += int((new != tok.pad_token_id).sum())
            decoded = tok.batch_decode(new, skip_special_tokens=True)
            finished, lengths = _ended(new, _stop_ids(model, tok))
            per_prompt = 1 if greedy else n
            for i in range(len(batch)):
                rows = range(i * per_prompt, (i + 1) * per_prompt)
                results.append([Completion(decoded[j].strip(), finished[j], lengths[j]) for j in rows])
        return results

    def _generate_vllm(self, texts, n, temperature, top_p, max_new_tokens, seed, greedy, max_input_tokens, name):
        from vllm import SamplingParams

        params = SamplingParams(
            n=n,
            temperature=0.0 if greedy else temperature,
            top_p=1.0 if greedy else top_p,
            max_tokens=max_new_tokens,
            seed=seed,
        )
        # Token ids, not strings: vLLM would add special tokens (a second BOS after a chat
        # template that has one), and the trainings tokenise without them.
        prompts = []
        for text in texts:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            if max_input_tokens is not None and len(ids) > max_input_tokens:
                ids = ids[len(ids) - max_input_tokens :]
            prompts.append({"prompt_token_ids": ids})
        lora = self._lora[name] if name is not None else None
        outputs = self._llm.generate(prompts, params, lora_request=lora, use_tqdm=False)
        results = []
        for output in outputs:
            self.stats.new_tokens += sum(len(o.token_ids) for o in output.outputs)
            results.append(
                [Completion(o.text.strip(), o.finish_reason != "length", len(o.token_ids)) for o in output.outputs]
            )
        return results

    def close(self) -> None:
        """Frees the device so the next model of the stage fits (refine loads G, then T)."""
        if self._vllm:
            _stop_vllm(self._llm)
            self._llm = None
        self._model = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def __enter__(self) -> Generator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _stop_ids(model, tokenizer) -> set[int]:
    ids = model.generation_config.eos_token_id
    stop = set(ids if isinstance(ids, list) else [ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None:
        stop.add(tokenizer.eos_token_id)
    return stop


def _ended(new_tokens: torch.Tensor, stop: set[int]) -> tuple[list[bool], list[int]]:
    """Per generated row: whether it reached a stop token, and how many tokens came before it.

    HF pads rows that stopped early, so a row's length is the position of its first stop.
    """
    hit = torch.zeros(new_tokens.shape, dtype=torch.bool, device=new_tokens.device)
    for token in stop:
        hit |= new_tokens == token
    finished = hit.any(dim=1)
    first_stop = torch.where(
        finished, hit.int().argmax(dim=1), torch.full_like(finished, new_tokens.shape[1], dtype=torch.long)
    )
    return finished.tolist(), first_stop.tolist()


def _adapter_rank(adapter: Path) -> int:
    try:
        return int(json.loads((adapter / "adapter_config.json").read_text())["r"])
    except (OSError, ValueError, KeyError):
        return 64


def _load_hf(base: Path, adapters: Mapping[str, Path]):
    model = load_causal_lm(base)
    if not adapters:
        return model
    from peft import PeftModel

    device = next(model.parameters()).device
    (first, first_path), *rest = adapters.items()
    model = PeftModel.from_pretrained(model, str(first_path), adapter_name=first, is_trainable=False)
    for name, path in rest:
        model.load_adapter(str(path), adapter_name=name, is_trainable=False)
    model.set_adapter(first)
    return model.to(device).eval()


def _engine_failure(error: BaseException) -> str:
    """The error's type and first line, bounded: engine errors name paths and devices, never records."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


def _start_vllm(spec: ModelSpec, adapters: Mapping[str, Path]):
    from vllm import LLM
    from vllm.lora.request import LoRARequest

    kwargs = dict(
        model=str(spec.base),
        tokenizer=str(spec.adapter or spec.base),
        dtype="auto",
        gpu_memory_utilization=float(os.environ.get("REWARDDS_VLLM_GPU_FRACTION", "0.85")),
        enforce_eager=os.environ.get("REWARDDS_VLLM_EAGER", "0") == "1",
    )
    requests = {}
    if adapters:
        rank = max(_adapter_rank(path) for path in adapters.values())
        # vLLM supports a fixed set of ranks; round up to the next it accepts.
        supported = [8, 16, 32, 64, 128, 256, 320, 512]
        kwargs.update(enable_lora=True, max_lora_rank=next((s for s in supported if s >= rank), 512), max_loras=1)
        requests = {name: LoRARequest(name, i, str(path)) for i, (name, path) in enumerate(adapters.items(), start=1)}
    log.info("vLLM engine with %d adapter(s)", len(requests))
    return LLM(**kwargs), requests


def _stop_vllm(llm) -> None:
    try:
        from vllm.distributed.parallel_state import destroy_distributed_environment, destroy_model_parallel

        destroy_model_parallel()
        destroy_distributed_environment()
    except Exception:
        pass
    del llm


def generate(spec: ModelSpec, prompts: Sequence[str], *, batch_size: int | None = None, **decoding) -> list[list[str]]:
    """One-shot: load `spec`, generate, free it. Stages that call a model repeatedly keep a Generator.

    `decoding` takes `Generator.complete`'s keywords (n, temperature, top_p, ...), which checks them.
    """
    with Generator(spec, batch_size=batch_size) as generator:
        return generator.generate(prompts, **decoding)
