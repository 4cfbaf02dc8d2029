"""Rules: pure logic from the stream of Observations to violation lifecycle changes."""
