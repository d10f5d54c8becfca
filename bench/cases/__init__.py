"""One module per group of benchmarks; each returns report.Row objects."""
