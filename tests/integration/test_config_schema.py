# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Keeps daemon/config.c's key table, schemas/config.schema.json and packaging/benchmemd.yaml
in step: same keys, same types, same limits, same defaults."""
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
EXE = ROOT / "build" / "tests" / "unit" / "test_config"
SCHEMA = json.loads((ROOT / "schemas" / "config.schema.json").read_text())
PACKAGED = ROOT / "packaging" / "benchmemd.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "config"


def run(*args):
    assert EXE.exists(), f"{EXE} not built (make {EXE.relative_to(ROOT)})"
    r = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def table():
    """The C table, in order: key -> (type, default text, min, max, choices)."""
    rows = {}
    for line in run("--keys").splitlines():
        key, typ, default, lo, hi, choices = line.split("\t")
        rows[key] = (typ, default, int(lo), int(hi), choices.split(",") if choices else [])
    return rows


def test_schema_and_table_list_the_same_keys_in_the_same_order():
    assert list(SCHEMA["properties"]) == list(table())
    assert SCHEMA["additionalProperties"] is False


def test_each_schema_property_matches_its_table_entry():
    for key, (typ, default, lo, hi, choices) in table().items():
        prop = SCHEMA["properties"][key]
        if typ == "uint":
            assert prop["type"] == "integer", key
            assert (prop["minimum"], prop["maximum"]) == (lo, hi), key
            assert prop["default"] == int(default), key
        elif typ == "size":
            assert prop["type"] == ["string", "integer"], key
            assert (prop["minimum"], prop["maximum"]) == (lo, hi), key
            assert prop["default"] == default, key
        elif typ in ("path", "group"):
            assert prop["type"] == "string", key
            assert (prop["minLength"], prop["maxLength"]) == (lo, hi), key
            assert prop["default"] == default, key
        elif typ == "mode":
            assert (lo, hi) == (0, 0o777), key  # what the pattern below encodes
            assert prop["pattern"] == "^0?[0-7]{1,3}$", key
            assert prop["default"] == default, key
        elif typ == "enum":
            assert prop["enum"] == choices, key
            assert prop["default"] == default, key
        elif typ == "bool":
            assert prop["type"] == "boolean", key
            assert prop["default"] == (default == "true"), key
        elif typ == "address":
            assert prop["type"] == "string", key
            assert (prop["minLength"], prop["maxLength"]) == (lo, hi), key
            assert prop["default"] == default, key
        else:
            pytest.fail(f"{key}: type {typ} unknown to this test")


def test_packaged_config_spells_out_every_default():
    """The shipped file names every key (so it documents them) with the C default value."""
    text = PACKAGED.read_text()
    doc = yaml.safe_load(text)
    assert list(doc) == list(table())
    dumped = dict(line.split("\t") for line in run("--dump", str(PACKAGED)).splitlines())
    assert dumped == {k: v[1] for k, v in table().items()}


def test_packaged_and_good_configs_validate_against_the_schema():
    for path in (PACKAGED, FIXTURES / "good.yaml"):
        jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


@pytest.mark.parametrize("name", ["unknown_key", "wrong_type", "out_of_range", "too_big",
                                  "not_mapping", "bad_enum", "bad_mode", "relative_path",
                                  "bad_group"])
def test_schema_refuses_what_the_daemon_refuses(name):
    doc = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)
    r = subprocess.run([EXE, "--dump", FIXTURES / f"{name}.yaml"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1 and f"{name}.yaml:" in r.stderr
