"""synthesize-queries: filtering rules, ids, attempt limit, few-shot from public seeds only."""

from __future__ import annotations

from conftest import run_job, sagemaker_layout

from rewardds_jobs.prompts import query_synthesis_prompt
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
