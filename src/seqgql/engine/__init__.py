"""The sequence engine: contacts move through steps by themselves."""
