# Makes pytest import these tests as cache.tests.* (unique dotted names across the repo's plugins).
