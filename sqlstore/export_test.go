package sqlstore

// Test helpers for the external test package (the example's).
var (
	TestURL         = pgURL
	TestUnreachable = unreachable
)
