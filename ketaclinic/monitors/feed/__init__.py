"""The bedside-monitor feed, pure: MLLP framing, HL7 parsing, code mapping, ACKs (no Django)."""
