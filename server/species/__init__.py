"""Species: the taxa that reports and seizures name, with their CITES listing."""
