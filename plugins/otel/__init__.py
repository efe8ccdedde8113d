# Not a package of the distribution (pyproject.toml lists its packages): this file only gives
# the tests in tests/ a unique dotted name (otel.tests.*) when pytest runs from the repository root.
