"""The partner API's published OpenAPI document: valid 3.1, and true to what the API reads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from starlette.testclient import TestClient

from cases.accounts.actions import do_create_partner
from cases.filing import REQUIRED_CONSENTS, check_filing
from tests.support.factories import api_filing_body, filing_fields
from tests.support.required import required_module

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} points outside the document"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def test_the_document_validates_as_openapi_3_1(document: dict[str, Any]) -> None:
    validator = required_module("openapi_spec_validator")

    validator.validate(document, cls=validator.OpenAPIV31SpecValidator)


def test_the_document_has_the_structural_essentials(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "http://testserver"}]
    assert set(document["paths"]) == {
        "/api/v1/disputes",
        "/api/v1/disputes/batch",
        "/api/v1/disputes/{case_number}",
        "/api/v1/disputes/{case_number}/order",
        "/api/v1/disputes/{case_number}/attachments",
        "/api/v1/disputes/{case_number}/negotiation",
        "/api/v1/negotiations",
        "/api/v1/figures",
        *(
            f"/api/v1/disputes/{{case_number}}/negotiation/{move}"
            for move in ("propose", "ask", "reply", "decline")
        ),
    }
    # The webhooks helper's section is wired in at merge (mediation.openapi.webhook_descriptions).
    assert isinstance(document["webhooks"], dict)
    for path, item in document["paths"].items():
        operations = {m: op for m, op in item.items() if m in HTTP_METHODS}
        assert operations, f"{path} has no operations"
        for method, operation in operations.items():
            responses = operation.get("responses")
            assert responses, f"{method.upper()} {path} has no responses"
            for code, response in responses.items():
                assert response.get("description"), f"{method.upper()} {path} {code}"
            in_path = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
            assert in_path == templated, f"{method.upper()} {path} path parameters"
    refs = set(_refs(document))
    assert refs, "expected the schemas to be shared by $ref"
    for ref in refs:
        _resolve(document, ref)
    schemes = document["components"]["securitySchemes"]
    for requirement in document["security"]:
        assert set(requirement) <= set(schemes)


class _Recording(Mapping[str, str]):
    """A mapping that notes every key read from it."""

    def __init__(self, data: dict[str, str]) -> None:
        self._data = data
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._data[key]

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return self._data.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("check_filing should read named fields, not iterate")

    def __len__(self) -> int:
        return len(self._data)


def test_every_field_the_filing_check_reads_is_described(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["DisputeFiling"]
    properties = schema["properties"]
    raw = _Recording(filing_fields())
    filing, errors = check_filing(raw)
    assert filing is not None, errors

    assert set(filing_fields()) <= set(properties), set(filing_fields()) - set(properties)
    assert raw.read <= set(properties), raw.read - set(properties)
    assert set(schema["required"]) <= set(properties)
    assert {"partner_reference", "evidence"} <= set(properties)
    for consent in REQUIRED_CONSENTS:
        assert consent in schema["required"]
        assert properties[consent] == {"type": "boolean", "const": True}


def test_a_valid_partner_body_matches_the_filing_schema(document: dict[str, Any]) -> None:
    jsonschema = required_module("jsonschema")
    schema = document["components"]["schemas"]["DisputeFiling"]

    jsonschema.Draft202012Validator(schema).validate(api_filing_body())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(
            api_filing_body(consent_voluntary="")  # false
        )


def test_a_filing_answer_matches_the_status_schema(
    client: TestClient, document: dict[str, Any]
) -> None:
    jsonschema = required_module("jsonschema")

    async def create() -> str:
        _, key = await do_create_partner("某旅游平台")
        return key

    key = client.portal.call(create)
    response = client.post(
        "/api/v1/disputes",
        json=api_filing_body(),
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "schema-0001"},
    )
    assert response.status_code == 201, response.text
    status_schema = document["components"]["schemas"]["DisputeStatus"]
    # Its $refs point into the document's components: validate with them at hand.
    rooted = {**status_schema, "components": document["components"]}

    jsonschema.Draft202012Validator(rooted).validate(response.json())
    # `merged_into` only in the answer to a merged filing (tests/mediation/
    # test_duplicates_partner.py checks that one against the schema).
    assert set(response.json()) == set(status_schema["properties"]) - {"merged_into"}
