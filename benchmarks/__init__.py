"""Speed benchmarks: ``python -m benchmarks`` (or ``make bench``) prints measured figures against targets."""
