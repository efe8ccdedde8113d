# Makes pytest import these tests as stdout_handler.tests.*: every plugin has a tests/test_conformance.py,
# and pytest (default import mode) cannot import two test modules of the same dotted name.
