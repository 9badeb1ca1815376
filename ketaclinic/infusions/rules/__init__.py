"""The infusion's pure rules: dose arithmetic (`dosing`), vitals thresholds and discharge
readiness (`monitoring`), and booking spacing (`scheduling`). No Django, no other app: they read
only the protocol definitions (`ketaclinic.infusions.protocols`)."""
