"""Email providers' event webhooks (SendGrid, Mailgun): their signatures checked and their
events read into ``ProviderEvent``s, each saying what it reports about which message
(``events.py``; ``sendgrid_events.py``, ``mailgun_events.py``). Matched to enrollments and
applied by ``services/provider_events.py``; the routes are in ``provider_webhooks.py``."""
