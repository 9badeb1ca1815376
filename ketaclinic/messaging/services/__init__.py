"""Writes of secure messages, one module per kind: ``threads`` (start, reply, assign, read,
urgent), ``attachments`` (the checks before anything is saved), ``notices`` (the e-mail
without content), ``words`` (the administrator's urgent-word list)."""
