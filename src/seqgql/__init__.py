"""seqgql: manage the contacts enrolled in outreach sequences, over GraphQL."""

__version__ = "0.1.0"
