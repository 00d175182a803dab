"""Camunda-style service façade: repository (definitions), runtime (cases), task, history."""
