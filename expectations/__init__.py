"""Great Expectations suites, written as code and generated from config rules."""
