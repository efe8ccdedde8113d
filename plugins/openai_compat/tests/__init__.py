# Makes pytest import these tests as openai_compat.tests.* (unique among the plugins' tests).
