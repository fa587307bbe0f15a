"""The OpenAPI document is valid OpenAPI 3 and describes errors as problem documents."""

from openapi_spec_validator import validate


def test_openapi_document_is_valid(client):
    spec = client.get("/api/openapi.json").get_json()
    validate(spec)
    assert spec["info"]["title"] == "RangerSync"
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


def test_every_operation_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert operation.get("summary") or operation.get("description"), (method, path)
