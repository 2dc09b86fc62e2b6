"""Which message roles a chat API accepts, read from its schema."""

from __future__ import annotations

from playground.schema.specs import endpoints_of
from tests.schema.documents import invented_document, research_document


def test_a_research_api_accepts_only_user_system_and_developer_in_schema_order():
    assert endpoints_of(research_document())["chat"].message_roles == ("user", "system", "developer")


def test_a_discriminated_one_of_with_enum_roles_gives_the_same_roles():
    assert endpoints_of(research_document(discriminated=True))["chat"].message_roles == ("user", "system", "developer")


def test_a_single_message_schema_with_a_role_enum():
    assert endpoints_of(invented_document())["chat"].message_roles == ("system", "user", "assistant")


def test_a_discriminator_mapping_names_the_roles_when_the_messages_do_not():
    document = research_document(discriminated=True)
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("MessageParam"):
            schema["properties"]["role"] = {"type": "string"}
    assert endpoints_of(document)["chat"].message_roles == ("user", "system", "developer")


def test_an_open_role_is_not_stated():
    document = invented_document()
    document["components"]["schemas"]["Message"]["properties"]["role"] = {"type": "string"}
    assert endpoints_of(document)["chat"].message_roles is None


def test_the_research_api_fields_get_the_right_kinds():
    chat = endpoints_of(research_document())["chat"]
    kinds = {param.name: param.kind for param in chat.params}
    assert kinds == {
        "temperature": "number",
        "top_p": "number",
        "stream": "boolean",
        "stop": "string_list",
        "max_tokens": "integer",
        "presence_penalty": "number",
        "logit_bias": "json",
        "logprobs": "boolean",
        "response_format": "json",
    }
    assert chat.content_fields == ("model", "messages")
