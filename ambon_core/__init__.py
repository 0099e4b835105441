"""Shared core of the Ambon command-centre dashboard.

What both the Streamlit UI and the background workers need: settings, the site
registry, domain types, the Redis store (the one module that owns every key) and
the SQL history models. Nothing in here imports ``streamlit``.
"""
