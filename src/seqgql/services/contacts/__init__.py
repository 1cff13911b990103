"""The contact aggregate: contacts and the groups they belong to.

- ``profiles``: creating and changing contacts (validated, normalised).
- ``roster``: reading contacts, by ids and as a searchable list.
- ``groups``: creating groups and reading them and their members.

The commands are exported here."""

from seqgql.services.contacts.groups import create_group
from seqgql.services.contacts.profiles import (
    EDITABLE,
    ContactSpec,
    create_contacts,
    update_contact,
)

__all__ = ["EDITABLE", "ContactSpec", "create_contacts", "create_group", "update_contact"]
