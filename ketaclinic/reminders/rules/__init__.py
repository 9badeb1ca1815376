"""Pure reminder rules (no Django): quiet hours and the retry back-off."""
