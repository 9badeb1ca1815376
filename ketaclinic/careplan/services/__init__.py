"""Writes to care plans and integration notes: keyword-only, a required ``acting_user``, one
transaction each with its audit row."""
