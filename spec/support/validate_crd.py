#!/usr/bin/env python3
"""validate_crd.py SCHEMA.yaml DOC.yaml: check a Kubernetes custom resource against a CRD's
openAPIV3Schema, for spec/spo_spec.lua. Prints the document as JSON on success (exit 0);
prints each violation, with its path, on failure (exit 1).

The API server prunes fields a structural schema does not name, so a field it would drop
is an error here too (additionalProperties: false wherever the schema lists properties,
except metadata, which Kubernetes checks itself). The integer formats int32/int64 are
checked, since the API server keeps bigger numbers only as rounded floats."""
import json
import sys

import jsonschema
import yaml


def strict(node, path=()):
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node and path != ("metadata",):
            node["additionalProperties"] = False
        for key, value in node.items():
            child = path + (key,) if key not in ("properties", "items") else path
            strict(value, child)
    elif isinstance(node, list):
        for value in node:
            strict(value, path)
    return node


formats = jsonschema.FormatChecker()


@formats.checks("int32")
def int32(value):
    return not isinstance(value, int) or -2**31 <= value < 2**31


@formats.checks("int64")
def int64(value):
    return not isinstance(value, int) or -2**63 <= value < 2**63


def main():
    with open(sys.argv[1]) as f:
        schema = strict(yaml.safe_load(f))
    with open(sys.argv[2]) as f:
        doc = yaml.safe_load(f)
    validator = jsonschema.Draft7Validator(schema, format_checker=formats)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) + ": " + e.message)
    if errors:
        return 1
    print(json.dumps(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
