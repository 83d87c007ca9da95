"""Side-by-side benchmark of the suite and the schemathesis CLI on the selftest mutants."""
