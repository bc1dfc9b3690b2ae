"""Request checks taken from botocore's own service models, so that what the
stand-ins accept is what botocore says AWS takes, not what esfs happens to send.
"""
import re

import botocore.session

_session = botocore.session.get_session()


def service(name):
    return _session.get_service_model(name)


def _check_value(name, shape, value):
    meta = shape.metadata
    if shape.type_name == "integer":
        try:
            n = int(value)
        except ValueError:
            return f"{name}: {value!r} is not an integer"
        if "min" in meta and n < meta["min"] or "max" in meta and n > meta["max"]:
            return f"{name}: {n} is outside {meta.get('min')}..{meta.get('max')}"
        return None
    if shape.type_name != "string":
        return f"{name}: a {shape.type_name} esfs never sends"
    if "min" in meta and len(value) < meta["min"] or "max" in meta and len(value) > meta["max"]:
        return f"{name}: length {len(value)} is outside {meta.get('min')}..{meta.get('max')}"
    pattern = meta.get("pattern")
    # The models' patterns are Java regexes; those with \u escapes Python cannot read.
    if pattern and "\\u" not in pattern and not re.fullmatch(pattern, value):
        return f"{name}: {value!r} does not match {pattern}"
    return None


def check_input(operation, params):
    """Problems with params ({member or wire name: text}) for a botocore OperationModel."""
    shape = operation.input_shape
    problems = []
    wire = {shape.members[m].serialization.get("name", m): m for m in shape.members}
    for key, value in params.items():
        member = wire.get(key)
        if member is None:
            problems.append(f"{key}: not a parameter of {operation.name}")
            continue
        problem = _check_value(key, shape.members[member], value)
        if problem:
            problems.append(problem)
    for member in shape.required_members:
        if shape.members[member].serialization.get("name", member) not in params:
            problems.append(f"{member}: required by {operation.name}")
    return problems
