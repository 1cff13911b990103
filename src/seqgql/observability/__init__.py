"""What operators see: request ids, log lines (text or JSON) and Prometheus metrics."""
