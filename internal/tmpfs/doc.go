// Package tmpfs gives tests a real filesystem that can run out of space: a
// tmpfs of a chosen size, and a file that fills it. Full-disk tests use it
// against the engine, the gateway and the built binary alike.
package tmpfs
