"""The running service's Prometheus metrics (`GET /metrics`): every name is in README.md beside this file."""

from metrics.service_metrics import CONTENT_TYPE, PhaseCounts, ServiceMetrics

__all__ = ["CONTENT_TYPE", "PhaseCounts", "ServiceMetrics"]
