"""Bad input ends a job with exit 1 and one `file:line: field: reason` line, never record text."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import fixture_records, run_job, sagemaker_layout

SECRET = "Patient Alice Example, record 4471"


def failure_of(layout, result) -> str:
    assert result.returncode == 1, result.stderr[-2000:]
    text = layout.failure.read_text()
    assert text.endswith("\n") and text.count("\n") == 1
    if not layout.training:
        # A processing job's reason reaches SageMaker only as its ExitMessage.
        assert layout.exit_message.read_text() == text
    assert SECRET not in text and SECRET not in result.stderr and SECRET not in result.stdout
    return text.strip()


def test_missing_input_channel(tmp_path, tiny_base):
    layout = sagemaker_layout(tmp_path, "build-pairs", {"base": tiny_base}, {"maxNewTokens": 4})
    assert failure_of(layout, run_job(layout)) == "train/: input channel missing"


def test_malformed_jsonl_line_names_file_and_line(tmp_path, tiny_base, generator_adapter):
    good = json.dumps({"id": "r-0", "prompt": SECRET, "response": "ok"})
    layout = sagemaker_layout(
        tmp_path,
        "build-pairs",
        {
            "train": good + "\n" + '{"id": "r-1", "prompt": "' + SECRET + '"\n',
            "base": tiny_base,
            "generator": generator_adapter,
        },
        {"maxNewTokens": 4},
    )
    assert failure_of(layout, run_job(layout)) == "train/train.jsonl:2: not valid JSON"


def test_missing_field_names_the_field(tmp_path, tiny_base, generator_adapter):
    lines = [{"id": "q-0", "prompt": SECRET}, {"id": "q-1", "text": SECRET}]
    layout = sagemaker_layout(
        tmp_path, "sample-candidates", {"queries": lines, "base": tiny_base, "generator": generator_adapter}, {}
    )
    assert failure_of(layout, run_job(layout)) == "queries/queries.jsonl:2: prompt: missing"


def test_unknown_config_key(tmp_path, tiny_base, generator_adapter):
    layout = sagemaker_layout(
        tmp_path,
        "build-pairs",
        {"train": fixture_records(1), "base": tiny_base, "generator": generator_adapter},
        {"maxNewTokens": 4, "temperature": 0.5},
    )
    assert failure_of(layout, run_job(layout)) == "config.json: temperature: unknown key"


def test_model_folder_that_is_not_a_model(tmp_path, tiny_base):
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a model")
    layout = sagemaker_layout(
        tmp_path,
        "score",
        {
            "candidates": [{"id": "q-0", "prompt": SECRET, "candidates": ["a"]}],
            "base": tiny_base,
            "generator": junk,
            "reward": junk,
        },
        {},
    )
    assert (
        failure_of(layout, run_job(layout)) == "generator/: not a model folder (no config.json or adapter_config.json)"
    )


def test_training_entry_reads_the_stage_from_hyperparameters(tmp_path):
    layout = sagemaker_layout(tmp_path, "train-generator", {}, {"noiseMultiplier": 1.0, "delta": 1e-5})
    hyper = layout.root / "input" / "config"
    hyper.mkdir(parents=True)
    (hyper / "hyperparameters.json").write_text(json.dumps({"stage": "evaluate"}))
    # `train` resolves to the evaluate stage, which then misses its test channel.
    result = run_job(layout, "train")
    assert failure_of(layout, result) == "test/: input channel missing"
    (hyper / "hyperparameters.json").write_text(json.dumps({}))
    assert (
        failure_of(layout, run_job(layout, "train"))
        == "hyperparameters.json: stage: missing (no stage given as argument)"
    )


def test_help_lists_every_stage(tmp_path):
    layout = sagemaker_layout(tmp_path, "score", {})
    result = run_job(layout, "--help")
    assert result.returncode == 0
    for stage in (
        "train-generator",
        "build-pairs",
        "train-reward",
        "synthesize-queries",
        "sample-candidates",
        "score",
        "train-target",
        "refine",
        "evaluate",
        "make-tiny-model",
    ):
        assert f"  {stage} " in result.stdout


def test_unexpected_errors_keep_our_messages_and_withhold_library_ones():
    from rewardds_jobs.failure import describe_unexpected

    try:
        json.loads('{"prompt": "' + SECRET)
    except ValueError as error:
        library = describe_unexpected(error)
    assert library.startswith("JSONDecodeError raised in ") and library.endswith("message withheld")
    assert SECRET not in library and "Alice" not in library
    from rewardds_jobs.contract import Job

    job = Job(
        stage="score",
        kind="processing",
        config=None,
        input_root=Path("."),
        processing_root=Path("."),
        model_dir=Path("."),
        output_data_dir=Path("."),
    )
    try:
        _ = job.model_out  # raised inside the package: its own words are kept
    except RuntimeError as error:
        ours = describe_unexpected(error)
    assert ours == "RuntimeError: stage score is a processing job and has no model folder"
    assert describe_unexpected(MemoryError("CUDA out of memory")) == "MemoryError: CUDA out of memory"
