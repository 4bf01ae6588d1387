"""Serving: the REST service (FastAPI) with its web page, and the task adapters it runs."""

from rnnlab.serving.app import create_app
from rnnlab.serving.tasks import Limits, load_served
from rnnlab.tasks import detect_task

__all__ = ["Limits", "create_app", "detect_task", "load_served"]
