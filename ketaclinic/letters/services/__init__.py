"""Writes of the letters app, one module per kind of write: referrals in (``referrals``), the
patient's other clinicians (``recipients``), the administrator's templates (``templates``) and
letters drafted, signed and sent (``letters``). Each write runs in one transaction with its
audit row."""
