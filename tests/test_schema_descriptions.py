"""Every element of `schema.graphql` carries a description: what GraphiQL's Docs pane shows
an integrator. The built-in scalars and introspection types are GraphQL's own."""

from __future__ import annotations

from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    specified_directives,
    specified_scalar_types,
)

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"
BUILT_IN_DIRECTIVES = {d.name for d in specified_directives}


def _described(element: object) -> bool:
    description = getattr(element, "description", None)
    return bool(description and description.strip())


def _own_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    return [
        t
        for name, t in sorted(schema.type_map.items())
        if not name.startswith("__") and name not in specified_scalar_types
    ]


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Every type, field, argument, input field, enum value and directive of the schema's
    own without a description, as `Type`, `Type.field`, `Type.field(argument:)`,
    `Input.field`, `Enum.VALUE`, `@directive(argument:)`."""
    missing: list[str] = []
    counted = described_elements(schema, missing)
    assert counted > 0
    return missing


def described_elements(schema: GraphQLSchema, missing: list[str]) -> int:
    """How many elements the schema has (those without a description go to ``missing``)."""
    count = 0

    def check(element: object, name: str) -> None:
        nonlocal count
        count += 1
        if not _described(element):
            missing.append(name)

    for named in _own_types(schema):
        check(named, named.name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                check(field, f"{named.name}.{field_name}")
                for arg_name, arg in field.args.items():
                    check(arg, f"{named.name}.{field_name}({arg_name}:)")
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                check(input_field, f"{named.name}.{field_name}")
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                check(value, f"{named.name}.{value_name}")
    for directive in schema.directives:
        if directive.name in BUILT_IN_DIRECTIVES:
            continue
        check(directive, f"@{directive.name}")
        for arg_name, arg in directive.args.items():
            check(arg, f"@{directive.name}({arg_name}:)")
    return count


def test_every_schema_element_has_a_description() -> None:
    missing = undescribed(build_schema(SCHEMA_FILE.read_text()))
    assert missing == [], (
        f"{len(missing)} elements of schema.graphql have no description "
        "(give each a `description=`, then `seqgql export-schema > schema.graphql`):\n  "
        + "\n  ".join(missing)
    )


def test_the_check_sees_what_lacks_a_description() -> None:
    schema = build_schema(
        '''
        """Described."""
        type Query {
          """Described."""
          a(x: Int, """Described.""" y: Int): E
          b: String
        }
        enum E { """Described.""" ONE TWO }
        input I { """ """ f: Int }
        scalar S
        '''
    )
    assert undescribed(schema) == ["E", "E.TWO", "I", "I.f", "Query.a(x:)", "Query.b", "S"]
