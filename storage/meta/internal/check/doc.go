// Package check validates the non-record arguments of meta.Store methods
// the same way for every backend.
package check
