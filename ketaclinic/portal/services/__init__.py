"""The portal's writes, one module per kind: invitations, rides home, contact details."""
