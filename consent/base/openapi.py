"""The OpenAPI document says what the API really accepts."""

from __future__ import annotations

from typing import TYPE_CHECKING

# Litestar's own plugin for msgspec structs, which every struct of the document goes through.
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class ClosedStructs(StructSchemaPlugin):
    """A body struct that refuses unknown fields (`forbid_unknown_fields`, 400 `invalid`) is
    documented with `additionalProperties: false`: without it the document allowed any extra
    field, and a client written from it was refused (schemathesis found it)."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if field_definition.type_.__struct_config__.forbid_unknown_fields:
            schema.additional_properties = False
        return schema
