"""How messages leave the system: the transport interface, SMTP, routing by channel,
and sending a batch with what became of each message."""
