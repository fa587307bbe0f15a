"""The OpenAPI document is valid OpenAPI 3 and describes errors as problem documents."""

from http import HTTPStatus

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


def test_errors_are_documented_as_problem_json(client):
    spec = client.get("/api/openapi.json").get_json()
    default = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(default) == ["application/problem+json"]
    for name, response in spec["components"]["responses"].items():
        if name in HTTPStatus.__members__ and HTTPStatus[name] >= 400:
            assert list(response["content"]) == ["application/problem+json"], name


def test_exports_are_documented_with_their_media_types(client):
    spec = client.get("/api/openapi.json").get_json()
    gaps = spec["paths"]["/api/v1/areas/{area}/coverage/gaps"]["get"]["responses"]["200"]
    assert {"application/json", "text/csv", "application/geo+json"} <= set(gaps["content"])
    exporting = [
        path
        for path, item in spec["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        and "text/csv" in operation.get("responses", {}).get("200", {}).get("content", {})
    ]
    assert len(exporting) >= 5
