"""Webhook endpoints managed (``endpoints``) and their deliveries read and replayed
(``deliveries``)."""
