"""The SageMaker layout, stage configs, JSONL records and failure format (in-process, no models)."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest

from rewardds_jobs.config import ProxyTrainConfig, SynthesizeQueriesConfig, load_stage_config, parse_stage_config
from rewardds_jobs.contract import Job, read_stage_hyperparameter
from rewardds_jobs.failure import JobInputError, exit_message_path, write_failure
from rewardds_jobs.records import read_jsonl, read_records, write_jsonl


def env_for(root: Path) -> dict[str, str]:
    return {
        "SM_INPUT_DIR": str(root / "input"),
        "SM_PROCESSING_DIR": str(root / "processing"),
        "SM_MODEL_DIR": str(root / "model"),
        "SM_OUTPUT_DATA_DIR": str(root / "output" / "data"),
        "SM_OUTPUT_DIR": str(root / "output"),
    }


def test_error_line_names_file_line_and_field_and_leaves_out_what_does_not_apply():
    assert str(JobInputError("train/train.jsonl", 3, "response", "missing")) == "train/train.jsonl:3: response: missing"
    assert str(JobInputError("config.json", None, "epochs", "unknown key")) == "config.json: epochs: unknown key"
    assert str(JobInputError("base/", None, None, "not a model folder")) == "base/: not a model folder"


def test_failure_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SM_OUTPUT_DIR", str(tmp_path / "training"))
    assert write_failure("first\nsecond  third", processing=False) == [tmp_path / "training/failure"]
    assert (tmp_path / "training/failure").read_text() == "first second third\n"
    assert not (tmp_path / "training/message").exists()


def test_a_processing_job_also_leaves_its_reason_as_the_exit_message(tmp_path, monkeypatch):
    # SageMaker processing reports /opt/ml/output/message as ExitMessage, not the failure file.
    monkeypatch.setenv("SM_OUTPUT_DIR", str(tmp_path))
    written = write_failure("score: candidates/candidates.jsonl:2: prompt: missing")
    assert written == [tmp_path / "failure", tmp_path / "message"]
    assert all(p.read_text() == "score: candidates/candidates.jsonl:2: prompt: missing\n" for p in written)
    monkeypatch.delenv("SM_OUTPUT_DIR")
    assert exit_message_path() == Path("/opt/ml/output/message")


def test_processing_job_resolves_channels_outputs_and_metrics(tmp_path):
    env = env_for(tmp_path)
    (tmp_path / "processing/input/queries").mkdir(parents=True)
    (tmp_path / "processing/input/queries/anything.jsonl").write_text('{"id": "q-000000", "prompt": "p"}\n')
    (tmp_path / "processing/input/config").mkdir(parents=True)
    (tmp_path / "processing/input/config/config.json").write_text(json.dumps({"candidates": 3, "seed": 7}))
    job = Job.from_env("sample-candidates", env)
    assert job.kind == "processing"
    assert job.config.candidates == 3 and job.config.seed == 7 and job.config.top_p == 0.7
    assert job.jsonl_path("queries") == tmp_path / "processing/input/queries/anything.jsonl"
    assert job.channel("seeds", optional=True) is None
    assert job.output("candidates") == tmp_path / "processing/output/candidates"
    written = job.write_metrics({"queries": 1})
    assert written == [tmp_path / "processing/output/candidates/metrics.json"]
    with pytest.raises(RuntimeError):
        _ = job.model_out


def test_training_job_writes_metrics_to_model_and_data_folders(tmp_path):
    env = env_for(tmp_path)
    (tmp_path / "input/data/config").mkdir(parents=True)
    (tmp_path / "input/data/config/config.json").write_text(json.dumps({"noiseMultiplier": 1.1, "delta": 1e-5}))
    job = Job.from_env("train-generator", env)
    assert isinstance(job.config, ProxyTrainConfig) and job.config.noise_multiplier == 1.1
    assert job.channel("train", optional=True) is None
    targets = job.write_metrics({"epsilon": 1.0})
    assert targets == [tmp_path / "model/metrics.json", tmp_path / "output/data/metrics.json"]
    assert all(json.loads(t.read_text()) == {"epsilon": 1.0} for t in targets)


def test_channel_variable_overrides_one_channel(tmp_path):
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    (elsewhere / "train.jsonl").write_text("")
    (elsewhere / "other.jsonl").write_text("")
    env = {**env_for(tmp_path), "SM_CHANNEL_TRAIN": str(elsewhere), "SM_CHANNEL_TARGET_BASE": str(tmp_path / "tb")}
    (tmp_path / "tb").mkdir()
    job = Job.from_env("score", env)
    # <channel>.jsonl wins over other files in the folder.
    assert job.jsonl_path("train") == elsewhere / "train.jsonl"
    assert job.channel("target_base") == tmp_path / "tb"


def test_channel_with_two_unnamed_jsonl_files_is_refused(tmp_path):
    folder = tmp_path / "processing/input/queries"
    folder.mkdir(parents=True)
    (folder / "a.jsonl").write_text("")
    (folder / "b.jsonl").write_text("")
    with pytest.raises(JobInputError, match=re.escape("queries/: 2 .jsonl files and none named queries.jsonl")):
        Job.from_env("sample-candidates", env_for(tmp_path)).jsonl_path("queries")


def test_missing_channel_names_it(tmp_path):
    with pytest.raises(JobInputError) as error:
        Job.from_env("score", env_for(tmp_path)).jsonl_path("candidates")
    assert str(error.value) == "candidates/: input channel missing"


def test_model_path_extracts_model_tar_gz_and_refuses_non_models(tmp_path):
    packed = tmp_path / "packed"
    (packed / "inner").mkdir(parents=True)
    (packed / "inner/adapter_config.json").write_text("{}")
    channel = tmp_path / "processing/input/generator"
    channel.mkdir(parents=True)
    with tarfile.open(channel / "model.tar.gz", "w:gz") as tar:
        tar.add(packed / "inner", arcname="inner")
    not_a_model = tmp_path / "processing/input/base"
    not_a_model.mkdir(parents=True)
    (not_a_model / "README.md").write_text("hello")
    job = Job.from_env("score", env_for(tmp_path))
    folder = job.model_path("generator")
    assert (folder / "adapter_config.json").is_file()
    with pytest.raises(JobInputError, match=r"^base/: not a model folder"):
        job.model_path("base")


def test_unknown_config_key_and_out_of_range_values_are_named(tmp_path):
    with pytest.raises(JobInputError) as error:
        parse_stage_config("score", {"batchSize": 4, "temperature": 1.0})
    assert str(error.value) == "config.json: temperature: unknown key"
    with pytest.raises(JobInputError, match=re.escape("config.json: topP: must be in")):
        parse_stage_config("sample-candidates", {"topP": 1.5})
    with pytest.raises(JobInputError, match=re.escape("config.json: lora.rank: unknown key")):
        parse_stage_config("train-target", {"lora": {"rank": 4}})
    with pytest.raises(JobInputError, match=re.escape("config.json: queries: missing")):
        parse_stage_config("synthesize-queries", {})
    with pytest.raises(JobInputError, match=r"config.json: metrics\[1\]: must be one of"):
        parse_stage_config("evaluate", {"metrics": ["bleu", "meteor"]})
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(JobInputError, match=re.escape("config.json: not valid JSON")):
        load_stage_config("score", bad)


def test_config_maps_camel_case_keys_to_fields():
    cfg = parse_stage_config(
        "synthesize-queries",
        {
            "queries": 5,
            "topP": 0.9,
            "maxNewTokens": 8,
            "fewShot": 1,
            "attemptsPerQuery": 2.5,
            "seed": 3,
            "temperature": 0.7,
        },
    )
    assert cfg == SynthesizeQueriesConfig(
        queries=5, seed=3, temperature=0.7, top_p=0.9, max_new_tokens=8, few_shot=1, attempts_per_query=2.5
    )


def test_read_jsonl_errors_name_file_line_field_and_never_quote_the_record(tmp_path):
    secret = "PATIENT JANE DOE HAS CONDITION X"
    path = tmp_path / "train" / "train.jsonl"
    path.parent.mkdir()
    cases = [
        (
            f'{{"id": "a", "prompt": "{secret}", "response": "ok"}}\n{{"id": "b", "prompt": "{secret}"',
            "train/train.jsonl:2: not valid JSON",
        ),
        (f'["{secret}"]\n', "train/train.jsonl:1: must be a JSON object"),
        (f'\n{{"id": "a", "prompt": "{secret}"}}\n', "train/train.jsonl:2: response: missing"),
        (f'{{"id": "a", "prompt": "{secret}", "response": 3}}\n', "train/train.jsonl:1: response: must be a string"),
        (
            f'{{"id": "a", "prompt": "{secret}", "response": "x"}}\n{{"id": "a", "prompt": "p", "response": "y"}}\n',
            "train/train.jsonl:2: id: repeats an earlier line's id",
        ),
    ]
    for text, expected in cases:
        path.write_text(text)
        with pytest.raises(JobInputError) as error:
            read_records(path)
        assert str(error.value) == expected
        assert secret not in str(error.value) and "JANE" not in repr(error.value.__cause__)
    path.write_bytes(b'{"id": "a", "prompt": "\xff"}\n')
    with pytest.raises(JobInputError, match=re.escape("train/train.jsonl:1: not valid UTF-8")):
        list(read_jsonl(path))


def test_records_round_trip_and_extra_fields_are_dropped(tmp_path):
    path = tmp_path / "test" / "test.jsonl"
    count = write_jsonl(
        path, [{"id": "t-0", "prompt": "p", "response": "r", "extra": 1}, {"id": "t-1", "prompt": "é", "response": ""}]
    )
    assert count == 2
    assert read_records(path) == [
        {"id": "t-0", "prompt": "p", "response": "r"},
        {"id": "t-1", "prompt": "é", "response": ""},
    ]
    assert [p.name for p in path.parent.iterdir()] == ["test.jsonl"]  # no temporary file left


def test_hyperparameters_may_only_hold_the_stage(tmp_path):
    config = tmp_path / "input/config"
    config.mkdir(parents=True)
    env = env_for(tmp_path)
    (config / "hyperparameters.json").write_text(json.dumps({"stage": '"train-reward"', "sagemaker_region": '"x"'}))
    assert read_stage_hyperparameter(env) == "train-reward"
    (config / "hyperparameters.json").write_text(json.dumps({"stage": "train-reward", "epochs": "3"}))
    with pytest.raises(JobInputError, match=re.escape("hyperparameters.json: epochs: unknown key")):
        read_stage_hyperparameter(env)


def test_write_jsonl_refuses_nan_and_leaves_no_file(tmp_path):
    # A NaN reward would be written as the bare token NaN, which is not JSON: the filter
    # would then fail far from the cause. The job fails here instead, and writes nothing.
    out = tmp_path / "scores.jsonl"
    with pytest.raises(ValueError):
        write_jsonl(out, [{"id": "q-0", "reward": 1.0}, {"id": "q-1", "reward": float("nan")}])
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
