"""The JSON API under /api/v1/.

``auth`` and ``errors`` are the helpers apps may import; ``v1`` holds the NinjaAPI object, its
exception handlers and the mounting of every app's router, and no app imports it back (an
import-linter contract keeps it so).
"""
