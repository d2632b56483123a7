// Package gatewaytest starts the real gateway in-process for the tests of
// the tools that drive it (the load generators), so they test against
// Kodo itself rather than a stand-in.
package gatewaytest
