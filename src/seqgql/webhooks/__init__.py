"""Webhooks out: the events of the log, signed (Standard Webhooks) and posted to each
workspace's endpoints, in order per sequence, at least once, retried with backoff."""
