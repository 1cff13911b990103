"""The GraphQL layer: types, inputs, payloads and thin resolvers over the services."""
