"""The synthetic demo clinic in the middle of its day (``ketaclinic demo``), built through the
apps' services so that every rule is kept and the audit trail and ledger chains verify."""
