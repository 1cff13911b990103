"""The pure domain: statuses, kinds, rules and errors. No SQL, no GraphQL, no web."""
