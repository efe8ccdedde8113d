# Makes pytest import these tests as redact.tests.* (unique dotted names across the repo's plugins).
