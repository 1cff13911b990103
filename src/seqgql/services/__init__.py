"""Use cases: each public call is one unit of work confined to one workspace."""
