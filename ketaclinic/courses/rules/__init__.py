"""Pure scheduling rules of the courses app (no Django): proposing an induction series and
finding a chair's free slots. Services feed them the clinic's data and store the result."""
