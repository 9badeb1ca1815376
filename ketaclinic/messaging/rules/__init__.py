"""Secure messages' pure rules: no Django import, no other app.

``urgent`` finds the urgent words (the clinic's list, ``data/urgent_words.json`` ships the
defaults with their sources) in a patient's message.
"""
