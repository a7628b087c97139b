"""TaskDash: catalogue of task services, task metadata polling and task workflow."""

__version__ = "0.1.0"
