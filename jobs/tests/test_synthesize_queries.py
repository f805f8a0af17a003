"""synthesize-queries: filtering rules, ids, attempt limit, few-shot from public seeds only."""

from __future__ import annotations

from types import SimpleNamespace

from conftest import run_job, sagemaker_layout

from rewardds_jobs.contract import Job
from rewardds_jobs.generate import Completion, GenerationStats
from rewardds_jobs.models import load_tokenizer
from rewardds_jobs.prompts import cut_user_turn, pre_query, query_synthesis_prompt
from rewardds_jobs.stages import synthesize_queries
from rewardds_jobs.stages.synthesize_queries import QueryFilter, query_id


def test_filter_drops_empty_over_long_and_folded_duplicates():
    keep = QueryFilter(max_tokens=10, max_chars=40)
    assert keep.consider("  Question: What is APR? ", 5) is None
    assert keep.consider("what   is\tapr?", 4) == "duplicate"
    assert keep.consider("   ", 0) == "empty"
    assert keep.consider("Question:", 1) == "empty"
    assert keep.consider("x" * 41, 5) == "tooLong"
    assert keep.consider("short", 11) == "tooLong"
    assert keep.consider("Is a fever of 39C serious?", 8) is None
    assert keep.kept == ["What is APR?", "Is a fever of 39C serious?"]
    assert keep.dropped == {"empty": 2, "tooLong": 2, "duplicate": 1}


def test_prompts_show_only_the_given_public_seeds():
    few = query_synthesis_prompt(["Public seed one?", "Public seed two?"])
    assert "Example 1:\nPublic seed one?" in few and "Example 2:\nPublic seed two?" in few
    assert "Example" not in query_synthesis_prompt([])
    assert query_id(0) == "q-000000" and query_id(123) == "q-000123"


def test_synthesize_queries_job_with_seeds(tmp_path, tiny_base, generator_adapter):
    seeds = [{"id": f"s-{i}", "prompt": f"Public question number {i}?"} for i in range(3)]
    config = {
        "seed": 1,
        "queries": 5,
        "temperature": 1.0,
        "topP": 0.9,
        "maxNewTokens": 8,
        "fewShot": 2,
        "attemptsPerQuery": 2,
    }
    layout = sagemaker_layout(
        tmp_path, "synthesize-queries", {"base": tiny_base, "generator": generator_adapter, "seeds": seeds}, config
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    queries = layout.read_jsonl("queries")
    metrics = layout.metrics("queries")
    assert [q["id"] for q in queries] == [f"q-{i:06d}" for i in range(len(queries))]
    assert all(set(q) == {"id", "prompt"} and q["prompt"].strip() == q["prompt"] != "" for q in queries)
    folded = [" ".join(q["prompt"].split()).casefold() for q in queries]
    assert len(set(folded)) == len(folded)
    assert metrics["produced"] == len(queries) <= 5
    assert metrics["attempts"] <= metrics["attemptLimit"] == 10
    assert metrics["fewShot"] == 2 and metrics["seeds"] == 3
    assert metrics["produced"] + sum(metrics["dropped"].values()) <= metrics["attempts"]

    again = sagemaker_layout(
        tmp_path / "again",
        "synthesize-queries",
        {"base": tiny_base, "generator": generator_adapter, "seeds": seeds},
        config,
    )
    assert run_job(again).returncode == 0
    assert again.read_jsonl("queries") == queries  # same seed, same queries


def test_synthesize_queries_zero_shot(tmp_path, tiny_base, generator_adapter):
    layout = sagemaker_layout(
        tmp_path,
        "synthesize-queries",
        {"base": tiny_base, "generator": generator_adapter},
        {"queries": 3, "maxNewTokens": 6},
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = layout.metrics("queries")
    assert metrics["fewShot"] == 0 and metrics["seeds"] == 0
    assert len(layout.read_jsonl("queries")) == metrics["produced"] >= 1


class _QwenLike:
    """A tokenizer whose chat template wraps a user message in ChatML markers, as Qwen2.5's does."""

    chat_template = "chatml"

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert not tokenize and add_generation_prompt
        return f"<|im_start|>user\n{messages[0]['content']}<|im_end|>\n<|im_start|>assistant\n"


def test_pre_query_is_what_surrounds_a_user_message_in_the_chat_template(tiny_base):
    assert pre_query(load_tokenizer(tiny_base)) == ("<|user|>\n", "<|assistant|>")
    assert pre_query(_QwenLike()) == ("<|im_start|>user\n", "<|im_end|>")
    # No chat template: the plain template's instruction header, ended by the next header.
    assert pre_query(SimpleNamespace(chat_template=None)) == ("### Instruction:\n", "###")
    assert (
        cut_user_turn("Where is the Alpha?\n<|assistant|>\nAt berth A-1.", "<|assistant|>") == "Where is the Alpha?\n"
    )
    assert cut_user_turn("no marker", "<|assistant|>") == "no marker"


def test_pre_query_job_continues_the_user_turn_start_without_instruction_or_seeds(tmp_path, tiny_base, monkeypatch):
    seen: list[tuple[list[str], bool]] = []

    class FakeGenerator:
        """Stands in for G: records its inputs and answers each with a user turn that runs on."""

        def __init__(self, spec, merged=False):
            self.tokenizer = load_tokenizer(tiny_base)
            self.stats = GenerationStats()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def complete(self, inputs, *, raw=False, **kwargs):
            seen.append((list(inputs), raw))
            offset = sum(len(s[0]) for s in seen[:-1])
            return [
                [Completion(f"Where is ship {offset + i}?\n<|assistant|>\nAt berth A-{i}.", True, 9)]
                for i in range(len(inputs))
            ]

    monkeypatch.setattr(synthesize_queries, "Generator", FakeGenerator)
    seeds = [{"id": "s-0", "prompt": "Public seed question?"}]
    config = {"seed": 1, "queries": 3, "fewShot": 2, "queryPrompt": "pre-query"}
    layout = sagemaker_layout(
        tmp_path, "synthesize-queries", {"base": tiny_base, "generator": tiny_base, "seeds": seeds}, config
    )
    metrics = synthesize_queries.run(Job.from_env("synthesize-queries", layout.env))
    assert seen == [(["<|user|>\n"] * 3, True)]
    assert [q["prompt"] for q in layout.read_jsonl("queries")] == [f"Where is ship {i}?" for i in range(3)]
    assert metrics["queryPrompt"] == "pre-query" and metrics["fewShot"] == 0 and metrics["seeds"] == 1


def test_the_query_prompt_must_be_one_the_run_config_allows(tmp_path, tiny_base, run_job):
    config = {"queries": 3, "queryPrompt": "magic"}
    layout = sagemaker_layout(tmp_path, "synthesize-queries", {"base": tiny_base, "generator": tiny_base}, config)
    result = run_job(layout)
    assert result.returncode == 1
    assert "queryPrompt" in layout.failure.read_text() and "instruction, pre-query" in layout.failure.read_text()


def test_pre_query_job_runs_on_the_tiny_model(tmp_path, tiny_base, generator_adapter, run_job):
    config = {"queries": 3, "maxNewTokens": 6, "queryPrompt": "pre-query"}
    layout = sagemaker_layout(
        tmp_path, "synthesize-queries", {"base": tiny_base, "generator": generator_adapter}, config
    )
    result = run_job(layout)
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = layout.metrics("queries")
    assert metrics["queryPrompt"] == "pre-query" and metrics["produced"] == len(layout.read_jsonl("queries")) >= 1
    assert not any("<|assistant|>" in q["prompt"] for q in layout.read_jsonl("queries"))
