"""Change events for live dashboards: task, service and liveness changes published to subscribers."""
