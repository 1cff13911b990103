"""Webhooks that providers call: Twilio's delivery reports and the texts contacts send
(``twilio_hooks``), each request's signature checked first (``twilio_signatures``)."""
