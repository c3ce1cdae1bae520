"""What is learned across runs: error fingerprints, patterns, outcomes, regressions, repro tests."""
