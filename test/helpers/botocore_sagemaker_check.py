"""Checks SageMaker requests against botocore's service model, for botocore-model.test.ts.

stdin: {"requests": [{"operation": "CreateTrainingJob", "label": str, "params": {...}}],
        "enums": {"TrainingInstanceType": [...], "ProcessingInstanceType": [...]}}
stdout: {"problems": [str], "checked": int, "botocore": str, "enumsMissing": {shape: [value]}}

botocore's validate_parameters checks types, required members and unknown keys; it does
not check the model's min/max/enum/pattern, so `limits` walks the shapes for those.
"""

import json
import sys

import botocore
import botocore.session
import regex  # the model's patterns are Java regexes (\p{L}…); `re` cannot read them
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters


def limits(shape, value, path, problems):
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        for name, member in shape.members.items():
            if name in value:
                limits(member, value[name], f"{path}.{name}", problems)
        return
    if kind == "list":
        size = len(value)
        if "min" in meta and size < meta["min"]:
            problems.append(f"{path}: {size} items, fewer than {meta['min']}")
        if "max" in meta and size > meta["max"]:
            problems.append(f"{path}: {size} items, more than {meta['max']}")
        for i, item in enumerate(value):
            limits(shape.member, item, f"{path}[{i}]", problems)
        return
    if kind == "map":
        size = len(value)
        if "max" in meta and size > meta["max"]:
            problems.append(f"{path}: {size} entries, more than {meta['max']}")
        for key, item in value.items():
            limits(shape.key, key, f"{path} key {key!r}", problems)
            limits(shape.value, item, f"{path}[{key!r}]", problems)
        return
    if kind == "string":
        if "min" in meta and len(value) < meta["min"]:
            problems.append(f"{path}: length {len(value)} < min {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: length {len(value)} > max {meta['max']}")
        if shape.enum and value not in shape.enum:
            problems.append(
                f"{path}: {value!r} is not one of the {len(shape.enum)} values of {shape.name}"
            )
        if "pattern" in meta:
            try:
                matched = regex.fullmatch(meta["pattern"], value)
            except regex.error as error:
                problems.append(
                    f"{path}: pattern {meta['pattern']} cannot be checked ({error})"
                )
            else:
                if not matched:
                    problems.append(
                        f"{path}: {value!r} does not match {meta['pattern']}"
                    )
        return
    if kind in ("integer", "long", "float", "double"):
        if "min" in meta and value < meta["min"]:
            problems.append(f"{path}: {value} < min {meta['min']}")
        if "max" in meta and value > meta["max"]:
            problems.append(f"{path}: {value} > max {meta['max']}")


def main():
    data = json.load(sys.stdin)
    model = botocore.session.get_session().get_service_model("sagemaker")
    problems = []
    for request in data["requests"]:
        shape = model.operation_model(request["operation"]).input_shape
        found = []
        try:
            validate_parameters(request["params"], shape)
        except ParamValidationError as error:  # its report lists every fault
            found.append(str(error).replace("\n", " "))
        limits(shape, request["params"], request["operation"], found)
        problems.extend(f"{request['label']}: {p}" for p in found)
    missing = {}
    for shape_name, values in data.get("enums", {}).items():
        known = set(model.shape_for(shape_name).enum)
        missing[shape_name] = sorted(v for v in values if v not in known)
    json.dump(
        {
            "problems": problems,
            "checked": len(data["requests"]),
            "botocore": botocore.__version__,
            "enumsMissing": missing,
        },
        sys.stdout,
    )


main()
